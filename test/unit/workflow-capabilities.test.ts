/**
 * What the workflow knows about a connector's provider (src/workflows/capabilities.ts): a snapshot written now
 * carries caps from the provider's folder; a snapshot recorded before caps existed gets exactly the answers the
 * workflow gave before (the sets PAGERS, TICKETS, READABLE of src/workflows/v2/state.ts, the ticket open budget of
 * activity-options.ts, the UI words of ui.ts), and both agree for every shipped provider.
 */
import { toRef, type ConnectorConfig, type ConnectorRef } from '../../src/config/connectors';
import { Secret } from '../../src/config/secret';
import { SHIPPED_PROVIDERS } from '../../src/providers/registry';
import type { Provider } from '../../src/shared/contract';
import { capsOfRef, isPager, isReadable, isTicket } from '../../src/workflows/capabilities';
import { connectorLabel, openSummary, openedDetail, resolveSummary } from '../../src/workflows/ui';

/** The answers before caps were carried, as the workflow's tables held them. */
const BEFORE = {
  pagers: ['pagerduty', 'opsgenie'],
  tickets: ['servicenow', 'jira'],
  readable: ['servicenow', 'jira', 'opsgenie'],
  names: { pagerduty: 'PagerDuty', opsgenie: 'Opsgenie', slack: 'Slack', teams: 'Microsoft Teams', servicenow: 'ServiceNow', jira: 'Jira' } as Record<string, string>,
  open: { pagerduty: 'trigger probectl-I1', opsgenie: 'create alert probectl-I1', slack: 'post the incident', teams: 'post the incident card', servicenow: 'create incident (correlation probectl-I1)', jira: 'create issue (label probectl-I1)' } as Record<string, string>,
};

const configOf = (provider: Provider): ConnectorConfig => ({
  position: 1, form: 'separated', tenantId: 'acme', provider, id: provider, url: new Secret('https://x.example'), credential: new Secret('c'), options: {}, settings: {},
});
const incident = { id: 'I1', tenantId: 'acme', title: 't', severity: 'critical' as const, openedAt: '2026-01-01T00:00:00Z' };

describe.each(SHIPPED_PROVIDERS.map((p) => [p]))('%s', (provider) => {
  const old: ConnectorRef = { id: provider, provider };
  const now = toRef(configOf(provider));

  test('a snapshot without caps answers as before', () => {
    expect(isPager(old)).toBe(BEFORE.pagers.includes(provider));
    expect(isTicket(old)).toBe(BEFORE.tickets.includes(provider));
    expect(isReadable(old)).toBe(BEFORE.readable.includes(provider));
    expect(connectorLabel(old)).toBe(BEFORE.names[provider]);
    expect(openSummary(old, incident)).toBe(`${BEFORE.names[provider]}: ${BEFORE.open[provider]}`);
    const chat = provider === 'slack' || provider === 'teams';
    expect(resolveSummary(old, undefined, false)).toBe(`${BEFORE.names[provider]}: ${chat ? 'post the resolution' : 'resolve'}`);
    expect(openedDetail(old, 'R1')).toBe(`${BEFORE.pagers.includes(provider) ? 'paged via' : chat ? 'posted to' : 'ticket opened in'} ${BEFORE.names[provider]}: R1`);
  });

  test('a snapshot written now carries caps from the provider folder that give the same answers', () => {
    expect(now.caps).toBeDefined();
    expect(capsOfRef(now)).toEqual(capsOfRef(old));
    for (const f of [isPager, isTicket, isReadable]) expect(f(now)).toBe(f(old));
    expect(openSummary(now, incident)).toBe(openSummary(old, incident));
    expect(resolveSummary(now, undefined, false)).toBe(resolveSummary(old, undefined, false));
    expect(openedDetail(now, 'R1')).toBe(openedDetail(old, 'R1'));
  });
});
