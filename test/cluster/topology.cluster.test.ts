/**
 * Three workers and two API replicas on Temporal server 1.29.1 with Postgres persistence: the six-provider
 * lifecycle, inbound resolutions through either replica, and a worker SIGKILLed during a fan-out of many
 * incidents. Counted at the doubles (alerts and tickets by their keys), never by requests.
 */
import { handled, sleep, uniqueId } from '../helpers/shared';
import {
  PROVIDER_KEYS, allOpenResolve, expectClean, isCreate, isResolve, linksSettled, settled,
} from '../faults/harness';
import { scenario } from './results';
import { Topology, byMode } from './topology';

describe('cluster: 3 workers, 2 API replicas, Temporal 1.29.1 on Postgres', () => {
  let t: Topology;

  beforeAll(async () => {
    t = await new Topology('topology').start();
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
  }, 60_000);

  const key = (id: string) => `probectl-${id}`;

  test('six providers: open through replica 1, resolved in ServiceNow and told through replica 2; every link resolved, nothing echoed to ServiceNow', async () => {
    const result = await scenario('six-provider lifecycle', async () => {
      const id = uniqueId('six');
      expect((await t.open(id, 0)).status).toBe(201);
      await linksSettled(t.stack, id, 6, 120_000);
      const state = await t.stack.incidents.getIncident(id);
      expect(state.links.map((l) => `${l.connectorId}:${l.status}`).sort()).toEqual(PROVIDER_KEYS.map((p) => `${p}:open`).sort());

      // ServiceNow resolves the ticket itself, and its business rule tells replica 2.
      const ticket = t.providers.servicenow.byCorrelation(key(id))[0]!;
      ticket.state = '6';
      const before = t.providers.servicenow.requests.length;
      const answer = await t.deliver(1, 'servicenow', { sys_id: ticket.sys_id, state: '6', number: ticket.number });
      expect(answer).toEqual({ status: 202, body: { outcome: 'accepted', kind: 'resolved', incidentId: id } });

      const res = await t.stack.incidents.result(id);
      expect(res.source).toBe('servicenow');
      expect(Object.fromEntries(res.links.map((l) => [l.connectorId, l.status]))).toEqual(Object.fromEntries(PROVIDER_KEYS.map((p) => [p, 'resolved'])));
      await sleep(1_500); // the pagers' delayed second resolve is due after 1 s: it must not reach ServiceNow either
      // Nothing but lookups reached ServiceNow after its own resolution (the tally checks the other five closed).
      expect(t.providers.servicenow.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
      const timeline = await t.stack.mirror.timeline(t.tenant, id);
      expect(timeline.filter((e) => e.kind === 'origin.skipped')).toEqual([expect.objectContaining({ connectorId: 'servicenow' })]);
      return { expectations: [{ incidentId: id, providers: t.providers, expect: allOpenResolve() }], injected: 'none' };
    });
    expectClean(result);
  });

  test('inbound resolutions through either replica: PagerDuty on replica 1, Jira on replica 2; duplicates on the other replica are no-ops', async () => {
    const result = await scenario('inbound through either replica', async () => {
      const viaPd = uniqueId('in-pd');
      const viaJira = uniqueId('in-jira');
      await Promise.all([t.open(viaPd, 1), t.open(viaJira, 0)]);
      await Promise.all([linksSettled(t.stack, viaPd, 6, 120_000), linksSettled(t.stack, viaJira, 6, 120_000)]);

      // Each provider closed its own object first (that is what their webhooks report).
      t.providers.pagerduty.alerts.find((a) => a.dedupKey === key(viaPd))!.status = 'resolved';
      const issue = t.providers.jira.byLabel(key(viaJira))[0]!;
      t.providers.jira.setStatus(issue.key, 'done');
      const pdBefore = t.providers.pagerduty.events('resolve').length;
      const jiraBefore = t.providers.jira.requests.filter((r) => isResolve('jira', r)).length;

      const a1 = await t.deliver(0, 'pagerduty', { external_ref: key(viaPd), status: 'resolved' });
      const jiraWebhook = {
        webhookEvent: 'jira:issue_updated',
        user: { displayName: 'Erin Oncall' },
        issue: { key: issue.key, fields: { labels: [key(viaJira)], status: { statusCategory: { key: 'done' } } } },
        changelog: { items: [{ field: 'status', toString: 'Done' }] },
      };
      const a2 = await t.deliver(1, 'jira', jiraWebhook);
      expect([a1, a2]).toEqual([
        { status: 202, body: { outcome: 'accepted', kind: 'resolved', incidentId: viaPd } },
        { status: 202, body: { outcome: 'accepted', kind: 'resolved', incidentId: viaJira } },
      ]);
      const [r1, r2] = await Promise.all([t.stack.incidents.result(viaPd), t.stack.incidents.result(viaJira)]);
      expect([r1.source, r2.source]).toEqual(['pagerduty', 'jira']);
      for (const r of [r1, r2]) expect(r.links.every((l) => l.status === 'resolved')).toBe(true);

      // The same deliveries again, each through the other replica, after the workflows closed.
      expect((await t.deliver(1, 'pagerduty', { external_ref: key(viaPd), status: 'resolved' })).body).toEqual({ outcome: 'duplicate' });
      expect((await t.deliver(0, 'jira', jiraWebhook)).body).toEqual({ outcome: 'duplicate' });
      await sleep(1_500);
      // Nothing echoed to the origin: no resolve event for viaPd at PagerDuty, no Jira transition for viaJira.
      expect(t.providers.pagerduty.events('resolve').slice(pdBefore).filter((r) => (r.json as { dedup_key?: string }).dedup_key === key(viaPd))).toEqual([]);
      expect(t.providers.jira.requests.filter((r) => isResolve('jira', r)).slice(jiraBefore).filter((r) => r.path.includes(issue.key))).toEqual([]);
      expect(t.providers.pagerduty.alerts.filter((a) => a.dedupKey === key(viaJira)).map((a) => a.status)).toEqual(['resolved']);
      expect(t.providers.jira.byLabel(key(viaPd))[0]!.status.category).toBe('done');
      return { expectations: [viaPd, viaJira].map((incidentId) => ({ incidentId, providers: t.providers, expect: allOpenResolve() })), injected: 'none' };
    });
    expectClean(result);
  });

  const N = byMode(30, 100);
  test(`a worker SIGKILLed during the open fan-out of ${N} incidents and another during their resolve fan-out: 0 duplicated, 0 lost`, async () => {
    const creates = () => PROVIDER_KEYS.reduce((n, p) => n + t.providers.double(p).requests.filter((r) => isCreate(p, r)).length, 0);
    const resolves = () => PROVIDER_KEYS.reduce((n, p) => n + t.providers.double(p).requests.filter((r) => isResolve(p, r)).length, 0);
    /** Run `work`; once the doubles saw `threshold` more requests of a kind, SIGKILL worker `i` and start another. */
    const killDuring = async (count: () => number, threshold: number, i: number, work: Promise<unknown>) => {
      const start = count();
      const deadline = Date.now() + 120_000;
      while (count() - start < threshold && Date.now() < deadline) await sleep(20);
      const seen = count() - start;
      const code = await t.replaceWorker(i, 'SIGKILL');
      await work;
      return { seen, code };
    };

    const result = await scenario(`worker SIGKILL mid fan-out, ${N} incidents`, async () => {
      const ids = Array.from({ length: N }, () => uniqueId('fan'));
      // Opens through both replicas, 10 at a time.
      const openAll = handled((async () => {
        for (let i = 0; i < ids.length; i += 10) await Promise.all(ids.slice(i, i + 10).map((id, k) => t.open(id, k % 2)));
      })(), 'the opens');
      const total = N * PROVIDER_KEYS.length;
      const k1 = await killDuring(creates, Math.floor(total / 3), 0, openAll);
      await t.linksSettled(ids);
      const resolveAll = handled((async () => {
        for (let i = 0; i < ids.length; i += 10) await Promise.all(ids.slice(i, i + 10).map((id, k) => t.resolve(id, k % 2)));
      })(), 'the resolves');
      const k2 = await killDuring(resolves, Math.floor(total / 3), 1, resolveAll);
      const unsettled = await settled(t.stack, () => t.tenant, ids, 240_000);
      if (unsettled > 0) await t.saveRunning(ids);
      // The kills landed mid fan-out: some but not all of the work had reached the providers.
      expect(k1.seen).toBeGreaterThan(0);
      expect(k1.seen).toBeLessThan(total);
      expect(k2.seen).toBeGreaterThan(0);
      expect(k2.seen).toBeLessThan(total);
      expect([k1.code, k2.code]).toEqual([null, null]); // killed, not exited
      return {
        expectations: ids.map((incidentId) => ({ incidentId, providers: t.providers, expect: allOpenResolve() })),
        unsettled,
        injected: `SIGKILL of worker 1 after ${k1.seen}/${total} creates, of worker 2 after ${k2.seen} resolve requests`,
      };
    });
    expectClean(result);
    // Every incident has exactly one alert or ticket at each pager and ticketing double.
    expect(result.tally.alerts).toMatchObject({ expected: 2 * N, present: 2 * N, duplicated: 0, lost: 0 });
    expect(result.tally.tickets).toMatchObject({ expected: 2 * N, present: 2 * N, duplicated: 0, lost: 0 });
  }, byMode(8, 20) * 60_000);
});
