/**
 * Missed webhooks: while an incident is open, a durable timer reads its tickets' and alerts' states back; a
 * ticket resolved at the provider resolves the incident as if its webhook had arrived, with that connector
 * as the origin (never called back).
 */
import { OpsgenieDouble } from '../../dev/doubles/opsgenie';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { eventually, sleep, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

describe('reconciliation of missed webhooks', () => {
  let pd: PagerDutyDouble;
  let sn: ServiceNowDouble;
  let og: OpsgenieDouble;
  let stack: TestStack;
  const tenant = uniqueId('recon');
  const OG_KEY = 'genie-key-reconcile-0123456789';

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    sn = await new ServiceNowDouble({ user: 'svc-notify', password: 'pa55-reconcile' }).start();
    og = await new OpsgenieDouble({ apiKey: OG_KEY }).start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenant}|pagerduty|${pd.url}/v2/enqueue|RKEY-reconcile-00000000000000`,
          `${tenant}|servicenow|${sn.url}|svc-notify:pa55-reconcile`,
          `${tenant}|opsgenie|${og.url}/v2/alerts|${OG_KEY}`,
        ].join(','),
        PROBECTL_NOTIFY_RECONCILE_INTERVAL: '2s',
        // No PROBECTL_NOTIFY_INBOUND: every webhook would be refused, so only reconciliation can notice.
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await Promise.all([pd?.stop(), sn?.stop(), og?.stop()]);
  });

  const openAll = async () => {
    const inc = incidentFor(tenant);
    await stack.incidents.openIncident(inc);
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).links.filter((l) => l.status === 'open').length === 3, { timeoutMs: 30_000 });
    return inc;
  };

  test('a ServiceNow ticket resolved at the provider, whose webhook never arrives, still resolves the incident', async () => {
    const inc = await openAll();
    const ticket = sn.byCorrelation(`probectl-${inc.id}`)[0]!;
    const requestsBefore = sn.requests.length;
    ticket.state = '6'; // an engineer resolves it in ServiceNow; no webhook is configured
    const result = await stack.incidents.result(inc.id);
    expect(result.source).toBe('servicenow');
    expect(result.links.every((l) => l.status === 'resolved')).toBe(true);
    expect(pd.alerts.find((a) => a.dedupKey === `probectl-${inc.id}`)?.status).toBe('resolved');
    expect(og.byAlias(`probectl-${inc.id}`)[0]?.status).toBe('closed');
    // the origin was only read, never written back to
    const writes = sn.requests.slice(requestsBefore).filter((r) => r.method !== 'GET');
    expect(writes).toHaveLength(0);
    const timeline = await stack.mirror.timeline(tenant, inc.id);
    expect(timeline.some((t) => t.kind === 'resolved' && t.source === 'servicenow' && t.detail?.includes('reconcil'))).toBe(true);
  });

  test('an Opsgenie alert closed at the provider resolves the incident; nothing is resolved while everything stays open', async () => {
    const inc = await openAll();
    await sleep(5000); // two reconciliation rounds with nothing changed
    expect((await stack.incidents.getIncident(inc.id)).status).toBe('open');
    og.byAlias(`probectl-${inc.id}`)[0]!.status = 'closed';
    const result = await stack.incidents.result(inc.id);
    expect(result.source).toBe('opsgenie');
    expect(sn.byCorrelation(`probectl-${inc.id}`)[0]?.state).toBe('6');
  });
});
