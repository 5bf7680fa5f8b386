/**
 * Races and duplicates: a resolve racing the open on every provider, an acknowledgement racing the resolve,
 * concurrent duplicate opens, a flood of duplicate inbound deliveries, and the configuration changed between
 * open and resolve (a connector added, one removed). Each scenario has its own tenant and its own doubles.
 */
import { createHmac } from 'node:crypto';
import { loadConfig } from '../../src/config/load';
import { startWorker } from '../../src/worker';
import { eventually, sleep, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, workflowBundle, type TestStack } from '../helpers/stack';
import {
  FAST_ENV, PROVIDER_KEYS, Providers, allOpenResolve, expectClean, faultTenant, isCreate, linksSettled, printResults, rng, runScenario,
  scale, settled, type Expect, type IncidentExpectation, type ProviderKey,
} from './harness';

const GROUP = 'races';
const INBOUND_SECRET = `inbound-faults-${Math.random().toString(36).slice(2, 14)}`;
const hmac = (body: string) => createHmac('sha256', INBOUND_SECRET).update(body).digest('hex');

describe('faults: races and duplicates', () => {
  const t = {
    race: faultTenant('race'), ack: faultTenant('ack'), dup: faultTenant('dup'), inbound: faultTenant('inb'), config: faultTenant('cfg'),
  };
  const p = { race: new Providers(), ack: new Providers(), dup: new Providers(), inbound: new Providers(), config: new Providers() };
  const token = `tok-faults-dup-${Math.random().toString(36).slice(2, 12)}`;
  let stack: TestStack;
  const before: ProviderKey[] = ['pagerduty', 'opsgenie', 'servicenow'];
  const after: ProviderKey[] = ['pagerduty', 'servicenow', 'jira'];
  const entries = (configProviders: readonly ProviderKey[]) => [
    ...p.race.entries(t.race), ...p.ack.entries(t.ack), ...p.dup.entries(t.dup), ...p.inbound.entries(t.inbound), ...p.config.entries(t.config, configProviders),
  ].join(',');

  beforeAll(async () => {
    await Promise.all(Object.values(p).map((x) => x.start()));
    stack = await startStack({
      env: {
        ...FAST_ENV,
        PROBECTL_NOTIFY_CONNECTORS: entries(before),
        PROBECTL_NOTIFY_API_TOKENS: `${t.dup}:${token}`,
        PROBECTL_NOTIFY_INBOUND: `pd-in:${t.inbound}:pagerduty:${INBOUND_SECRET}`,
      },
    });
  });
  afterAll(async () => {
    for (const x of Object.values(p)) x.heal();
    await stack?.stop();
    await Promise.all(Object.values(p).map((x) => x.stop()));
    printResults();
  });

  const resolveSignal = (tenantId: string, source = 'probectl') => ({ tenantId, source, at: new Date().toISOString() });

  test('resolve racing open on every provider: nothing left open', async () => {
    const r = rng();
    process.stdout.write(`[faults] race seed ${r.seed}\n`);
    const n = scale(4, 12);
    const patterns: string[] = [];
    const result = await runScenario({ group: GROUP, name: 'resolve racing open (all six)', injected: '' }, async () => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const inc = incidentFor(t.race);
        ids.push(inc.id);
        const pattern = i % 4;
        if (pattern === 0) {
          // open and resolve back to back
          await stack.incidents.openIncident(inc);
          await stack.incidents.resolve(inc.id, resolveSignal(t.race));
          patterns.push('0 ms');
        } else if (pattern === 1 || pattern === 3) {
          // every create processed by the provider but its answer held; resolve while they are held
          for (const k of PROVIDER_KEYS) p.race.double(k).faults.hold = (req) => isCreate(k, req);
          await stack.incidents.openIncident(inc);
          await Promise.race([Promise.all(PROVIDER_KEYS.map((k) => p.race.double(k).waitHeld(1))), sleep(10_000)]);
          await stack.incidents.resolve(inc.id, resolveSignal(t.race));
          const releaseAfter = pattern === 1 ? 0 : r.int(100, 3_000);
          await sleep(releaseAfter);
          p.race.heal();
          patterns.push(`answers held, released ${releaseAfter} ms after the resolve`);
        } else {
          const ms = r.int(0, 800);
          await stack.incidents.openIncident(inc);
          await sleep(ms);
          await stack.incidents.resolve(inc.id, resolveSignal(t.race));
          patterns.push(`${ms} ms`);
        }
      }
      const unsettled = await settled(stack, () => t.race, ids);
      await sleep(3_000); // a stale trigger would land now
      const expect = Object.fromEntries(PROVIDER_KEYS.map((k) => [k, 'maybe'])) as Record<ProviderKey, Expect>;
      return {
        expectations: ids.map((incidentId) => ({ incidentId, providers: p.race, expect })),
        unsettled,
        injected: `${n} resolves racing their opens (${patterns.join('; ')})`,
      };
    });
    expectClean(result);
  }, 8 * 60_000);

  test('acknowledge racing resolve', async () => {
    const r = rng();
    const n = scale(3, 10);
    const result = await runScenario({ group: GROUP, name: 'acknowledge racing resolve', injected: `${n} incidents: acknowledge (api) and resolve (probectl) sent together, random order` }, async () => {
      const incs = Array.from({ length: n }, () => incidentFor(t.ack));
      await Promise.all(incs.map((inc) => stack.incidents.openIncident(inc)));
      for (const inc of incs) await linksSettled(stack, inc.id, 6);
      await Promise.all(incs.map(async (inc) => {
        const ack = async () => {
          await sleep(r.int(0, 50));
          await stack.incidents.acknowledge(inc.id, { tenantId: t.ack, source: 'api', at: new Date().toISOString() });
        };
        const res = async () => {
          await sleep(r.int(0, 50));
          await stack.incidents.resolve(inc.id, resolveSignal(t.ack));
        };
        await Promise.all(r.next() < 0.5 ? [ack(), res()] : [res(), ack()]);
      }));
      const unsettled = await settled(stack, () => t.ack, incs.map((i) => i.id));
      await sleep(2_000);
      return { expectations: incs.map((inc) => ({ incidentId: inc.id, providers: p.ack, expect: allOpenResolve() })), unsettled };
    });
    expectClean(result);
  }, 6 * 60_000);

  test('concurrent duplicate opens', async () => {
    const n = scale(20, 100);
    const result = await runScenario({ group: GROUP, name: 'concurrent duplicate opens', injected: `${n} opens of one incident at once, half through the Temporal client, half through POST /v1/incidents` }, async () => {
      const inc = incidentFor(t.dup);
      const outcomes: Record<string, number> = {};
      const runIds = new Set<string>();
      await Promise.all(Array.from({ length: n }, async (_, i) => {
        let outcome: string;
        if (i % 2 === 0) {
          const out = await stack.incidents.openIncident(inc);
          outcome = out.outcome;
          if ('runId' in out && out.runId) runIds.add(out.runId);
        } else {
          const { tenantId: _t, ...body } = inc;
          const res = await stack.app.inject({ method: 'POST', url: '/v1/incidents', headers: { authorization: `Bearer ${token}` }, payload: body });
          outcome = `http ${res.statusCode}`;
        }
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }));
      await linksSettled(stack, inc.id, 6);
      await stack.incidents.resolve(inc.id, resolveSignal(t.dup));
      const unsettled = await settled(stack, () => t.dup, [inc.id]);
      // One run, whatever each caller was told (several may hear "started": docs/faults.md, F-2).
      expect(runIds.size).toBe(1);
      const runs = await stack.client.workflow.list({ query: `WorkflowId = 'probectl-${inc.id}'` });
      let runCount = 0;
      for await (const _ of runs) runCount += 1;
      expect(runCount).toBe(1);
      return { expectations: [{ incidentId: inc.id, providers: p.dup, expect: allOpenResolve() }], unsettled, notes: `outcomes ${JSON.stringify(outcomes)}` };
    });
    expectClean(result);
  }, 5 * 60_000);

  test('duplicate inbound deliveries', async () => {
    const n = scale(200, 1000);
    const result = await runScenario({ group: GROUP, name: 'duplicate inbound deliveries', injected: '' }, async () => {
      const inc = incidentFor(t.inbound);
      await stack.incidents.openIncident(inc);
      await linksSettled(stack, inc.id, 6);
      await eventually(async () => (await stack.mirror.read(t.inbound, inc.id))?.links.filter((l) => l.status === 'open').length === 6, { what: 'the mirror has the links' });
      // Resolved in PagerDuty (the origin): the double's alert closes, PagerDuty sends its webhook, many times.
      const alert = p.inbound.pagerduty.alerts.find((a) => a.dedupKey === `probectl-${inc.id}`)!;
      alert.status = 'resolved';
      const pdResolvesBefore = p.inbound.pagerduty.events('resolve').length;
      const webhookId = uniqueId('wh');
      const pdBody = (eventId: string) => JSON.stringify({
        event: {
          id: eventId, event_type: 'incident.resolved', resource_type: 'incident', occurred_at: new Date().toISOString(),
          agent: { summary: 'Erin Oncall', type: 'user_reference' },
          data: { id: 'PFAULTS', type: 'incident', incident_key: `probectl-${inc.id}`, status: 'resolved' },
        },
      });
      const sameBody = pdBody('ev-same');
      const deliveries = Array.from({ length: n }, (_, i) => {
        const kind = i % 3;
        if (kind === 0) return { payload: sameBody, headers: { 'x-webhook-id': webhookId, 'x-pagerduty-signature': `v1=${hmac(sameBody)}` } };
        if (kind === 1) {
          const b = pdBody(`ev-${i}`);
          return { payload: b, headers: { 'x-webhook-id': `${webhookId}-${i}`, 'x-pagerduty-signature': `v1=${hmac(b)}` } };
        }
        return { payload: JSON.stringify({ external_ref: `probectl-${inc.id}`, status: 'resolved', ...(i % 2 ? { delivery_id: `d-${i}` } : {}) }), headers: { 'x-probectl-token': INBOUND_SECRET } };
      });
      const answers: Record<string, number> = {};
      const batch = 25;
      for (let i = 0; i < deliveries.length; i += batch) {
        await Promise.all(deliveries.slice(i, i + batch).map(async (d) => {
          const res = await stack.app.inject({ method: 'POST', url: '/ingest/itsm/pagerduty/pd-in', headers: { 'content-type': 'application/json', ...d.headers }, payload: d.payload });
          const key = `${res.statusCode} ${(res.json() as { outcome?: string }).outcome ?? (res.json() as { error?: string }).error}`;
          answers[key] = (answers[key] ?? 0) + 1;
        }));
      }
      const unsettled = await settled(stack, () => t.inbound, [inc.id]);
      // After the workflow closed, more duplicates: still 2xx no-ops.
      for (let i = 0; i < 10; i++) {
        const res = await stack.app.inject({ method: 'POST', url: '/ingest/itsm/pagerduty/pd-in', headers: { 'content-type': 'application/json', 'x-probectl-token': INBOUND_SECRET }, payload: JSON.stringify({ external_ref: `probectl-${inc.id}`, status: 'resolved' }) });
        const key = `after close: ${res.statusCode} ${(res.json() as { outcome?: string }).outcome}`;
        answers[key] = (answers[key] ?? 0) + 1;
      }
      const fivexx = Object.entries(answers).filter(([k]) => /(^|: )5\d\d /.test(k)).reduce((s, [, v]) => s + v, 0);
      expect({ fivexx, answers }).toEqual({ fivexx: 0, answers: expect.any(Object) });
      const timeline = await stack.mirror.timeline(t.inbound, inc.id);
      expect(timeline.filter((e) => e.kind === 'resolved')).toHaveLength(1);
      // No echo to the origin: PagerDuty never got a resolve for it.
      expect(p.inbound.pagerduty.events('resolve').length - pdResolvesBefore).toBe(0);
      const rest: ProviderKey[] = ['opsgenie', 'slack', 'teams', 'servicenow', 'jira'];
      const expectations: IncidentExpectation[] = [{ incidentId: inc.id, providers: p.inbound, expect: { ...allOpenResolve(rest), pagerduty: 'open+resolve' } }];
      return { expectations, unsettled, injected: `${n} resolved deliveries from PagerDuty (1/3 one webhook id, 1/3 distinct ids, 1/3 portable), 25 at a time, +10 after close`, notes: `answers ${JSON.stringify(answers)}` };
    });
    expectClean(result);
  }, 6 * 60_000);

  test('configuration changed between open and resolve: a connector added, one removed', async () => {
    const result = await runScenario({ group: GROUP, name: 'config change between open and resolve', injected: 'worker restarted with opsgenie removed and jira added between open and resolve' }, async () => {
      const inc = incidentFor(t.config);
      await stack.incidents.openIncident(inc);
      await linksSettled(stack, inc.id, 3);
      await stack.worker!.shutdown();
      const env2 = { ...stack.env, PROBECTL_NOTIFY_CONNECTORS: entries(after) };
      stack.worker = await startWorker({ config: loadConfig(env2), pool: stack.pool, log: stack.log, metrics: stack.metrics, env: env2, workflowBundle: await workflowBundle() });
      await stack.incidents.resolve(inc.id, resolveSignal(t.config));
      const unsettled = await settled(stack, () => t.config, [inc.id]);
      const res = await stack.incidents.result(inc.id);
      expect(res.links.map((l) => `${l.connectorId}:${l.status}`).sort()).toEqual(['opsgenie:orphaned', 'pagerduty:resolved', 'servicenow:resolved']);
      const mirror = await stack.mirror.read(t.config, inc.id);
      expect(mirror?.links.find((l) => l.connectorId === 'opsgenie')?.status).toBe('orphaned');
      const timeline = await stack.mirror.timeline(t.config, inc.id);
      expect(timeline.filter((e) => e.kind === 'connector.orphaned').map((e) => e.connectorId)).toEqual(['opsgenie']);
      // A second incident after the change: the new set.
      const inc2 = incidentFor(t.config);
      await stack.incidents.openIncident(inc2);
      await linksSettled(stack, inc2.id, 3);
      await stack.incidents.resolve(inc2.id, resolveSignal(t.config));
      const unsettled2 = await settled(stack, () => t.config, [inc2.id]);
      return {
        expectations: [
          { incidentId: inc.id, providers: p.config, expect: { pagerduty: 'open+resolve', servicenow: 'open+resolve', opsgenie: 'open', jira: 'none' } },
          { incidentId: inc2.id, providers: p.config, expect: { pagerduty: 'open+resolve', servicenow: 'open+resolve', jira: 'open+resolve', opsgenie: 'none' } },
        ],
        unsettled: unsettled + unsettled2,
        notes: 'removed connector: link orphaned, its alert left as it was (no credential to close it)',
      };
    });
    expectClean(result);
  }, 5 * 60_000);
});
