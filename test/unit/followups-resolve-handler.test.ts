/**
 * What the two connector follow-up handlers share (resolveHandlerBase in src/followups/connector-call.ts): counted
 * as a resolve, retried as the activity's resolve is, labelled with the provider of the row's connector — 'other'
 * once the connector is gone, for another tenant's connector, or for a row of another kind.
 */
import { HttpClient } from '../../src/http/client';
import { Pacer } from '../../src/activities/pacing';
import { ConnectorDirectory, parseConnectors } from '../../src/config/connectors';
import type { LeasedFollowUp } from '../../src/db/follow-up-store';
import { resolveHandlerBase } from '../../src/followups/connector-call';
import { reResolve } from '../../src/followups/re-resolve';
import { ticketClose } from '../../src/followups/ticket-close';
import type { FollowUpDeps, FollowUpHandler } from '../../src/followups/types';
import type { FollowUpRecord } from '../../src/shared/records';

const AT = '2026-01-01T00:00:00.000Z';
const PD_KEY = 'e93facc04764012d7bfb002500d5d1a6';

const http = new HttpClient({ timeoutMs: 1_000 });
afterAll(() => http.close());

const deps: FollowUpDeps = {
  connectors: new ConnectorDirectory(parseConnectors(JSON.stringify([
    { tenant: 'acme', provider: 'pagerduty', url: 'https://events.pagerduty.com/v2/enqueue', credential: PD_KEY },
    { tenant: 'acme', provider: 'servicenow', url: 'https://acme.service-now.com', credential: 'svc.probectl:pa55word', name: 'snow-ops' },
  ]))),
  http,
  pacer: new Pacer(),
  pagerReResolveDelayMs: 0,
};

const records: Record<string, FollowUpRecord> = {
  'pagerduty re-resolve': { key: 'c:re-resolve:pagerduty', kind: 're-resolve', dueAt: AT, connectorId: 'pagerduty', resolution: { source: 'api' } },
  'snow-ops ticket-close': { key: 'c:ticket-close:snow-ops:2', kind: 'ticket-close', dueAt: AT, connectorId: 'snow-ops', resolution: { source: 'api' }, pass: 2 },
  'removed re-resolve': { key: 'c:re-resolve:gone', kind: 're-resolve', dueAt: AT, connectorId: 'gone', resolution: { source: 'api' } },
  'removed ticket-close': { key: 'c:ticket-close:gone:2', kind: 'ticket-close', dueAt: AT, connectorId: 'gone', resolution: { source: 'api' }, pass: 2 },
  callback: {
    key: 'c:callback:resolved', kind: 'callback', dueAt: AT,
    event: { type: 'incident.resolved', eventId: 'probectl-inc-1/incident.resolved', incidentId: 'inc-1', tenantId: 'acme', source: 'api', at: AT },
  },
};

const rowOf = (record: string, tenantId = 'acme'): LeasedFollowUp => ({
  id: '1', tenantId, incidentId: 'inc-1', key: records[record]!.key,
  incident: { id: 'inc-1', tenantId, title: 'Packet loss', severity: 'critical', openedAt: AT },
  followUp: records[record]!, firstDueAt: AT, attempts: 1, leaseToken: 'token',
});

const handlers: Array<[string, FollowUpHandler]> = [
  ['reResolve', reResolve],
  ['ticketClose', ticketClose],
  ["resolveHandlerBase('re-resolve')", resolveHandlerBase('re-resolve') as FollowUpHandler],
  ["resolveHandlerBase('ticket-close')", resolveHandlerBase('ticket-close') as FollowUpHandler],
];

describe('resolveHandlerBase', () => {
  test.each(handlers)('%s counts as a resolve, retried for a day at most 5 minutes apart', (_name, h) => {
    expect({ action: h.action, retryWindowMs: h.retryWindowMs, maxBackoffMs: h.maxBackoffMs }).toEqual({ action: 'resolve', retryWindowMs: 24 * 60 * 60_000, maxBackoffMs: 5 * 60_000 });
  });

  const byKind = { 're-resolve': reResolve, 'ticket-close': ticketClose } as const;
  test.each([
    // the handler's kind, the row's record, the row's tenant, the label
    ['re-resolve', 'pagerduty re-resolve', 'acme', 'pagerduty'],
    ['re-resolve', 'removed re-resolve', 'acme', 'other'],
    ['re-resolve', 'pagerduty re-resolve', 'other-tenant', 'other'],
    ['re-resolve', 'snow-ops ticket-close', 'acme', 'other'],
    ['re-resolve', 'callback', 'acme', 'other'],
    ['ticket-close', 'snow-ops ticket-close', 'acme', 'servicenow'],
    ['ticket-close', 'removed ticket-close', 'acme', 'other'],
    ['ticket-close', 'snow-ops ticket-close', 'other-tenant', 'other'],
    ['ticket-close', 'pagerduty re-resolve', 'acme', 'other'],
    ['ticket-close', 'callback', 'acme', 'other'],
  ] as const)('the %s handler labels a row "%s" of tenant %s: %s', (kind, record, tenant, label) => {
    expect(byKind[kind].provider(rowOf(record, tenant), deps)).toBe(label);
    expect(resolveHandlerBase(kind).provider(rowOf(record, tenant), deps)).toBe(label);
  });
});
