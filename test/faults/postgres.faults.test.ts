/**
 * Postgres unreachable (through a CuttableProxy in DATABASE_URL) during the opens and the resolves: pages and
 * tickets still go out, resolves still fan out, and the mirror catches up once Postgres is back.
 */
import { eventually, sharedStack, sleep } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { CuttableProxy } from '../helpers/tcp-proxy';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import {
  FAST_ENV, PROVIDER_KEYS, Providers, allOpenResolve, expectClean, faultTenant, linksSettled, objectsAt, printResults, runScenario, scale, settled,
} from './harness';

const GROUP = 'postgres';

describe('faults: Postgres unreachable', () => {
  let providers: Providers;
  let proxy: CuttableProxy;
  let stack: TestStack;
  const tenant = faultTenant('pg');
  const outageMs = scale(8_000, 30_000);
  /** The worker runs as its own process under a supervisor that restarts it, so a crash is seen and counted. */
  let worker: WorkerProcess | undefined;
  let stopping = false;
  const crashes: string[] = [];
  const supervise = () => {
    const w = spawnWorker(stack.env);
    worker = w;
    w.child.once('exit', (code, signal) => {
      if (stopping) return;
      crashes.push(`${code ?? signal}: ${/Error: [^\n]*/.exec(w.output())?.[0] ?? 'no message'}`);
      void supervise();
    });
    return w.ready;
  };

  beforeAll(async () => {
    providers = await new Providers().start();
    const db = new URL(sharedStack().databaseUrl);
    proxy = await CuttableProxy.forAddress(`${db.hostname}:${db.port || 5432}`).start();
    db.host = proxy.address;
    stack = await startStack({ worker: false, env: { ...FAST_ENV, DATABASE_URL: db.toString(), PROBECTL_NOTIFY_CONNECTORS: providers.entries(tenant).join(',') } });
    // The test's own pool (its mirror reads) must not crash the test when the cut catches a checked-out
    // client: the product's withTenant has no such listener (docs/faults.md, F-4), hence the worker's supervisor.
    stack.pool.on('connect', (client) => client.on('error', () => undefined));
    await supervise();
  });
  afterAll(async () => {
    proxy?.restore();
    providers?.heal();
    stopping = true;
    await worker?.kill();
    await stack?.stop();
    await proxy?.stop();
    await providers?.stop();
    printResults();
  });

  test(`cut for ${outageMs / 1000} s during opens and resolves`, async () => {
    const result = await runScenario({ group: GROUP, name: 'Postgres cut during opens and resolves', injected: '' }, async () => {
      // One incident opened before the cut and resolved during it; two opened during it, one resolved during it.
      const early = incidentFor(tenant);
      await stack.incidents.openIncident(early);
      await linksSettled(stack, early.id, 6);
      await eventually(async () => (await stack.mirror.read(tenant, early.id))?.links.length === 6, { what: 'the mirror before the cut' });

      proxy.cut();
      const cutAt = Date.now();
      const during = [incidentFor(tenant), incidentFor(tenant)];
      await Promise.all(during.map((inc) => stack.incidents.openIncident(inc)));
      await stack.incidents.resolve(early.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
      // The pages (PagerDuty, Opsgenie) go out while Postgres is away: no page waits for it. Tickets and posts
      // follow at the fallback pace (each worker on rate / PROBECTL_NOTIFY_PACE_WORKERS from an empty bucket;
      // a ticket open is two requests), so all six may settle after the outage at default rates.
      const pagers = new Set(['pagerduty', 'opsgenie']);
      await Promise.all(during.map((inc) => eventually(async () => {
        const links = (await stack.incidents.getIncident(inc.id)).links.filter((l) => pagers.has(l.provider));
        return links.length === 2 && links.every((l) => l.status === 'open');
      }, { timeoutMs: outageMs + 60_000, intervalMs: 100, what: `the pages of ${inc.id}` })));
      const pagedAfterMs = Date.now() - cutAt;
      const pagedInOutage = pagedAfterMs < outageMs;
      for (const inc of during) await linksSettled(stack, inc.id, 6, outageMs + 60_000);
      const settledAfterMs = Date.now() - cutAt;
      await stack.incidents.resolve(during[0]!.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
      // The resolves fan out while the mirror is still unreachable.
      await eventually(() => PROVIDER_KEYS.every((p) => objectsAt(providers, p, early.id).open === 0), { what: 'the early incident resolved at the providers', timeoutMs: outageMs + 60_000 });
      const resolvedInOutage = proxy.isCut;
      const remaining = outageMs - (Date.now() - cutAt);
      if (remaining > 0) await sleep(remaining);
      // Every workflow is still waiting for its mirror.
      const desc = await stack.client.workflow.getHandle(`probectl-${early.id}`).describe();
      const runningDuringOutage = desc.status.name === 'RUNNING';
      proxy.restore();

      await stack.incidents.resolve(during[1]!.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
      const ids = [early.id, ...during.map((i) => i.id)];
      const unsettled = await settled(stack, () => tenant, ids, 180_000);
      for (const id of ids) {
        const rec = await stack.mirror.read(tenant, id);
        expect({ id, links: rec?.links.map((l) => l.status) }).toEqual({ id, links: Array(6).fill('resolved') });
      }
      expect({ pagedInOutage, resolvedInOutage, runningDuringOutage }).toEqual({ pagedInOutage: true, resolvedInOutage: true, runningDuringOutage: true });
      return {
        expectations: ids.map((incidentId) => ({ incidentId, providers, expect: allOpenResolve() })),
        unsettled,
        injected: `Postgres cut for ${outageMs / 1000} s: 2 opens and 2 resolves inside the outage, 1 resolve after it`,
        notes: `pages during the outage: ${pagedInOutage} (after ${pagedAfterMs} ms; all six links settled after ${settledAfterMs} ms); mirror caught up after restore; worker crashes (F-4): ${crashes.length}${crashes.length ? ` [${crashes.join('; ')}]` : ''}`,
      };
    });
    expectClean(result);
  }, scale(5, 8) * 60_000);
});
