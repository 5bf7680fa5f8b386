/**
 * Restarts on the cluster topology while incidents open and resolve: every worker and API replica replaced
 * one after the other (a rolling deploy), and the Temporal server itself stopped and started with
 * scripts/temporal-cluster.sh. Nothing may be lost or doubled, counted at the doubles.
 */
import { handled, sleep, uniqueId } from '../helpers/shared';
import { allOpenResolve, expectClean, isCreate, isResolve, linksSettled, settled, PROVIDER_KEYS } from '../faults/harness';
import { scenario } from './results';
import { Topology, byMode, restartTemporal } from './topology';

describe('cluster restarts', () => {
  let t: Topology;

  beforeAll(async () => {
    // This file is about restarts, not provider rate limits: pacing is raised above the load (the topology
    // file runs at the providers' default pacing).
    t = await new Topology('restarts').start({ ratePerMin: 1200 });
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
  }, 60_000);

  /** One incident's life through the replicas: open, links settled, resolve. */
  const lifecycle = async (id: string, replica: number) => {
    await t.open(id, replica);
    await linksSettled(t.stack, id, PROVIDER_KEYS.length, 180_000);
    await t.resolve(id, 1 - replica);
  };

  const PACE_MS = byMode(1_000, 500);
  test(`rolling restart of every worker and API replica while incidents open and resolve (a new one every ${PACE_MS} ms)`, async () => {
    const result = await scenario('rolling restart', async () => {
      const ids: string[] = [];
      let rollingDone = false;
      const exits: string[] = [];
      const retriedBefore = t.retried.api;
      // The load: a new incident every PACE_MS, each running its whole lifecycle through the replicas, from
      // before the first replacement until after the last one.
      const lifeErrors: string[] = [];
      const load = (async () => {
        const lives: Array<Promise<void>> = [];
        while (!rollingDone && ids.length < 400) {
          const id = uniqueId('roll');
          ids.push(id);
          lives.push(lifecycle(id, ids.length % 2).catch((err: Error) => void lifeErrors.push(`${id}: ${err.message}`)));
          await sleep(PACE_MS);
        }
        await Promise.all(lives);
      })();
      const during: number[] = [];
      const roll = (async () => {
        await sleep(2_000);
        for (let i = 0; i < t.workers.length; i++) {
          during.push(ids.length);
          exits.push(`worker ${i + 1}: exit ${await t.replaceWorker(i, 'SIGTERM')}`);
          await sleep(500);
        }
        for (let i = 0; i < t.apis.length; i++) {
          during.push(ids.length);
          exits.push(`api ${i + 1}: exit ${await t.replaceApi(i, 'SIGTERM')}`);
          await sleep(500);
        }
        await sleep(1_000);
        rollingDone = true;
      })();
      await Promise.all([load, roll]);
      // Every process drained and exited on its own (exit 0), none had to be killed.
      expect(exits).toEqual([...t.workers.map((_, i) => `worker ${i + 1}: exit 0`), ...t.apis.map((_, i) => `api ${i + 1}: exit 0`)]);
      // The load really ran across the whole roll: incidents kept starting after each replacement.
      expect(during.every((n, k) => n < (during[k + 1] ?? ids.length))).toBe(true);
      const unsettled = await settled(t.stack, () => t.tenant, ids, 240_000);
      if (unsettled > 0) await t.saveRunning(ids);
      expect(lifeErrors).toEqual([]);
      // The runs given the API's begin snapshot (every process has one configuration, so the API's gate opens once
      // Temporal lists the workers): some must be, and like every run here they settled while the workers were
      // replaced one by one.
      const checked = new Set<string>();
      for await (const w of t.stack.client.workflow.list({ query: `ProbectlTenant = '${t.tenant}' AND TemporalChangeVersion = 'first-run-checked-v1'` })) checked.add(w.workflowId);
      const given = ids.filter((id) => checked.has(`probectl-${id}`)).length;
      expect(given).toBeGreaterThan(0);
      return {
        expectations: ids.map((incidentId) => ({ incidentId, providers: t.providers, expect: allOpenResolve() })),
        unsettled,
        injected: `SIGTERM and replacement of ${t.workers.length} workers then ${t.apis.length} API replicas, one at a time (incidents started before each: ${during.join(', ')}); ${t.retried.api - retriedBefore} /v1 calls retried on the other replica; ${given} of ${ids.length} runs given the API's begin snapshot`,
      };
    });
    expectClean(result);
  }, byMode(8, 20) * 60_000);

  const N_SRV = byMode(10, 30);
  test(`the Temporal server stopped and started (scripts/temporal-cluster.sh) during the open and the resolve fan-out of ${N_SRV} incidents`, async () => {
    const creates = () => PROVIDER_KEYS.reduce((n, p) => n + t.providers.double(p).requests.filter((r) => isCreate(p, r)).length, 0);
    const resolves = () => PROVIDER_KEYS.reduce((n, p) => n + t.providers.double(p).requests.filter((r) => isResolve(p, r)).length, 0);
    const waitFor = async (count: () => number, more: number) => {
      const start = count();
      const deadline = Date.now() + 120_000;
      while (count() - start < more && Date.now() < deadline) await sleep(20);
      return count() - start;
    };

    const result = await scenario('Temporal server restart', async () => {
      const retriedBefore = { ...t.retried };
      const ids = Array.from({ length: N_SRV }, () => uniqueId('srv'));
      const late = Array.from({ length: 3 }, () => uniqueId('srv-late'));
      const total = N_SRV * PROVIDER_KEYS.length;

      // Opens; once a third of the creates reached the providers, the server goes down for 3 s. Three more
      // opens are sent while it is down: the API answers 503 and the client retries on the other replica.
      const opening = handled(Promise.all(ids.map((id, i) => t.open(id, i % 2))), 'the opens');
      const seenOpen = await waitFor(creates, Math.floor(total / 3));
      const restart1 = handled(restartTemporal(3_000), 'the first server restart');
      await sleep(1_000);
      const lateOpens = handled(Promise.all(late.map((id, i) => t.open(id, i % 2))), 'the opens sent while down');
      const r1 = await restart1;
      await Promise.all([opening, lateOpens]);
      const all = [...ids, ...late];
      await t.linksSettled(all);

      // Resolves: half through /v1, half as PagerDuty webhooks (the provider closed its alert); the server
      // goes down during that fan-out, and the webhooks sent meanwhile get 503 until it is back (retried).
      const viaApi = all.filter((_, i) => i % 2 === 0);
      const viaInbound = all.filter((_, i) => i % 2 === 1);
      const resolving = handled(Promise.all(viaApi.map((id, i) => t.resolve(id, i % 2))), 'the /v1 resolves');
      const seenResolve = await waitFor(resolves, Math.floor(viaApi.length * 2));
      const restart2 = handled(restartTemporal(3_000), 'the second server restart');
      await sleep(1_000);
      const inbound = handled(Promise.all(viaInbound.map(async (id, i) => {
        const alert = t.providers.pagerduty.alerts.find((a) => a.dedupKey === `probectl-${id}`);
        if (alert) alert.status = 'resolved';
        // Retried while the answer is 5xx, as PagerDuty does. A retry of a delivery that was recorded before
        // the outage was noticed may be answered as a duplicate: the resolution's source below proves it landed.
        const a = await t.deliver(i % 2, 'pagerduty', { external_ref: `probectl-${id}`, status: 'resolved' }, 180_000);
        expect({ id, answer: `${a.status} ${String(a.body.outcome)}` }).toEqual({ id, answer: expect.stringMatching(/^(202 accepted|200 duplicate)$/) });
      })), 'the webhook resolves');
      const r2 = await restart2;
      await Promise.all([resolving, inbound]);
      const unsettled = await settled(t.stack, () => t.tenant, all, 240_000);
      if (unsettled > 0) await t.saveRunning(all);
      for (const id of viaInbound) expect({ id, source: (await t.stack.incidents.result(id)).source }).toEqual({ id, source: 'pagerduty' });
      expect(seenOpen).toBeLessThan(total + 3 * PROVIDER_KEYS.length);
      return {
        expectations: all.map((incidentId) => ({ incidentId, providers: t.providers, expect: allOpenResolve() })),
        unsettled,
        injected: `2 stops of 3 s (Postgres kept): after ${seenOpen}/${total} creates (stop ${r1.stopSeconds}s, start ${r1.startSeconds}s) and after ${seenResolve} resolve requests (stop ${r2.stopSeconds}s, start ${r2.startSeconds}s); 3 opens and ${viaInbound.length} webhooks sent while down; retried: ${t.retried.api - retriedBefore.api} /v1 calls, ${t.retried.inbound - retriedBefore.inbound} webhooks`,
      };
    });
    expectClean(result);
  }, byMode(8, 20) * 60_000);
});
