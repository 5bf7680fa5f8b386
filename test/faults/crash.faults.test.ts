/**
 * Crashes: the worker process SIGKILLed at random points of the open and resolve fan-outs, N times in a
 * row; an API process SIGKILLed in the middle of a burst of resolve requests, the clients retrying against
 * its replacement. Counted at the doubles of all six providers.
 */
import { freePort } from '../setup/temporal-server';
import { handled, sleep } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import {
  FAST_ENV, PROVIDER_KEYS, Providers, allOpenResolve, expectClean, faultTenant, isCreate, isResolve, linksSettled, printResults, rng,
  runScenario, scale, settled, withTimeout, type IncidentExpectation, type ProviderKey,
} from './harness';

const GROUP = 'crash';

describe('faults: crashes', () => {
  let providers: Providers;
  let stack: TestStack;
  const tenant = faultTenant('crash');
  const token = `tok-faults-crash-${Math.random().toString(36).slice(2, 12)}`;
  const procs: WorkerProcess[] = [];

  beforeAll(async () => {
    providers = await new Providers().start();
    stack = await startStack({
      worker: false,
      env: { ...FAST_ENV, PROBECTL_NOTIFY_CONNECTORS: providers.entries(tenant).join(','), PROBECTL_NOTIFY_API_TOKENS: `${tenant}:${token}` },
    });
  });
  afterAll(async () => {
    providers?.heal();
    for (const p of procs) await p.kill();
    await stack?.stop();
    await providers?.stop();
    printResults();
  });

  function spawn(role: 'worker' | 'api' = 'worker', extra: Record<string, string> = {}): WorkerProcess {
    const p = spawnWorker({ ...stack.env, ...extra }, role);
    procs.push(p);
    return p;
  }

  test(`worker SIGKILLed at random points during open and resolve fan-outs, ${scale(3, 20)} times in a row`, async () => {
    const r = rng();
    const kills = scale(3, 20);
    process.stdout.write(`[faults] worker-kill seed ${r.seed} (replay: FAULTS_SEED=${r.seed})\n`);
    const points: string[] = [];
    const result = await runScenario({ group: GROUP, name: 'worker SIGKILL mid fan-out', injected: '' }, async () => {
      let worker = spawn();
      await worker.ready;
      const ids: string[] = [];
      let done = 0;

      /** Kill the worker at a random point of `phase`: after a random delay, or while a random provider holds its answer. */
      const killDuring = async (phase: 'open' | 'resolve') => {
        const p: ProviderKey = r.pick(PROVIDER_KEYS);
        const how = r.next() < 0.5 ? 'delay' : 'held';
        if (how === 'held') {
          let held = 0;
          providers.double(p).faults.hold = (req) => (phase === 'open' ? isCreate(p, req) : isResolve(p, req)) && held++ === 0;
          await Promise.race([providers.double(p).waitHeld(1), sleep(8_000)]);
          points.push(`${phase}:${p} held`);
        } else {
          const ms = r.int(0, 1_500);
          await sleep(ms);
          points.push(`${phase}:+${ms}ms`);
        }
        await worker.kill('SIGKILL');
        done += 1;
        worker = spawn();
        await worker.ready;
        providers.heal(); // the answer goes to a dead socket
      };

      while (done < kills) {
        const inc = incidentFor(tenant);
        ids.push(inc.id);
        await stack.incidents.openIncident(inc);
        await killDuring('open');
        await linksSettled(stack, inc.id, 6);
        await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
        if (done < kills) await killDuring('resolve');
        await withTimeout(stack.incidents.result(inc.id), 120_000, `the result of ${inc.id}`);
      }
      const unsettled = await settled(stack, () => tenant, ids);
      const expectations: IncidentExpectation[] = ids.map((incidentId) => ({ incidentId, providers, expect: allOpenResolve() }));
      return { expectations, unsettled, injected: `${kills} SIGKILLs (${points.join(', ')})` };
    });
    expectClean(result);
  }, scale(10, 60) * 60_000);

  test('API process SIGKILLed while it is signalling; clients retry against a new API process', async () => {
    const r = rng();
    const n = scale(8, 30);
    const result = await runScenario({ group: GROUP, name: 'API SIGKILL mid resolve burst', injected: '' }, async () => {
      const worker = spawn();
      await worker.ready;
      const incidents = Array.from({ length: n }, () => incidentFor(tenant));
      await Promise.all(incidents.map((inc) => stack.incidents.openIncident(inc)));
      for (const inc of incidents) await linksSettled(stack, inc.id, 6, 180_000);

      const port = await freePort();
      const api1 = spawn('api', { PROBECTL_NOTIFY_API_PORT: String(port) });
      await api1.ready;
      const base = `http://127.0.0.1:${port}`;
      const statuses: Record<string, number> = {};
      let networkErrors = 0;
      /** A client that retries its resolve until it gets an answer that is not a 5xx, twice per incident (a duplicate). */
      const resolveWithRetry = async (id: string, copy: number) => {
        await sleep(r.int(0, 400));
        for (let attempt = 0; ; attempt++) {
          try {
            const res = await fetch(`${base}/v1/incidents/${id}/resolve`, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: JSON.stringify({ actor: `client-${copy}`, reason: 'fault scenario' }),
              signal: AbortSignal.timeout(5_000),
            });
            await res.text();
            if (res.status < 500) {
              statuses[res.status] = (statuses[res.status] ?? 0) + 1;
              return;
            }
          } catch {
            networkErrors += 1;
          }
          if (attempt > 200) throw new Error(`resolve of ${id} never got an answer`);
          await sleep(100);
        }
      };
      const burst = handled(Promise.all(incidents.flatMap((inc) => [resolveWithRetry(inc.id, 1), resolveWithRetry(inc.id, 2)])), 'the resolve burst');
      const killAfter = r.int(30, 300);
      await sleep(killAfter);
      await api1.kill('SIGKILL');
      const api2 = spawn('api', { PROBECTL_NOTIFY_API_PORT: String(port) });
      await api2.ready;
      await burst;
      const unsettled = await settled(stack, () => tenant, incidents.map((i) => i.id), 180_000);
      // Exactly one resolution recorded per incident, whatever the number of requests that got through.
      for (const inc of incidents) {
        const timeline = await stack.mirror.timeline(tenant, inc.id);
        expect({ id: inc.id, resolved: timeline.filter((t) => t.kind === 'resolved').length }).toEqual({ id: inc.id, resolved: 1 });
      }
      await api2.kill('SIGTERM');
      await worker.kill('SIGKILL');
      return {
        expectations: incidents.map((inc) => ({ incidentId: inc.id, providers, expect: allOpenResolve() })),
        unsettled,
        injected: `API SIGKILL after ${killAfter} ms of ${2 * n} resolve requests (2 per incident); clients retried: ${networkErrors} network errors`,
        notes: `answers ${JSON.stringify(statuses)}`,
      };
    });
    expectClean(result);
  }, scale(6, 20) * 60_000);
});
