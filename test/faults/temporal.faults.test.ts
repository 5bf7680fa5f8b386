/**
 * The Temporal dev server stopped and restarted mid-incident, keeping its SQLite file: once during the open
 * fan-out, once during the resolve fan-out. The worker and client reconnect on their own.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { sleep } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { findTemporalCli, startDevServer, type DevServer } from '../setup/temporal-server';
import {
  FAST_ENV, PROVIDER_KEYS, Providers, allOpenResolve, expectClean, faultTenant, isCreate, isResolve, linksSettled, printResults, runScenario, scale, settled,
} from './harness';

const GROUP = 'temporal';

describe('faults: Temporal dev server restarted', () => {
  let providers: Providers;
  let stack: TestStack;
  let server: DevServer;
  let cli: string;
  const dbFile = join(__dirname, '..', '..', 'test-artifacts', `faults-temporal-${process.pid}.sqlite`);
  const tenant = faultTenant('tmp');
  const downMs = scale(3_000, 15_000);
  const restarts = scale(1, 3);

  beforeAll(async () => {
    providers = await new Providers().start();
    cli = findTemporalCli();
    server = await startDevServer({ cli, dbFile });
    stack = await startStack({ temporalAddress: server.address, env: { ...FAST_ENV, PROBECTL_NOTIFY_CONNECTORS: providers.entries(tenant).join(',') } });
  }, 120_000);
  afterAll(async () => {
    providers?.heal();
    await stack?.stop();
    await server?.stop();
    await providers?.stop();
    for (const s of ['', '-wal', '-shm']) rmSync(dbFile + s, { force: true });
    printResults();
  }, 60_000);

  async function restart(): Promise<void> {
    await server.stop();
    await sleep(downMs);
    server = await startDevServer({ cli, dbFile, port: server.port });
  }

  test(`stopped and restarted mid-incident (${restarts}×2)`, async () => {
    const result = await runScenario({ group: GROUP, name: 'dev server restart mid fan-out', injected: '' }, async () => {
      const ids: string[] = [];
      for (let i = 0; i < restarts; i++) {
        const incs = [incidentFor(tenant), incidentFor(tenant)];
        ids.push(...incs.map((x) => x.id));
        // Stop while the provider holds the Jira create: the activity is mid-call when the server goes.
        providers.jira.faults.hold = (r) => isCreate('jira', r);
        await Promise.all(incs.map((inc) => stack.incidents.openIncident(inc)));
        await Promise.race([providers.jira.waitHeld(2), sleep(10_000)]);
        await restart();
        providers.heal();
        for (const inc of incs) await linksSettled(stack, inc.id, 6, 120_000);
        providers.pagerduty.faults.hold = (r) => isResolve('pagerduty', r);
        for (const inc of incs) await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
        await Promise.race([providers.pagerduty.waitHeld(1), sleep(10_000)]);
        await restart();
        providers.heal();
      }
      const unsettled = await settled(stack, () => tenant, ids, 180_000);
      return {
        expectations: ids.map((incidentId) => ({ incidentId, providers, expect: allOpenResolve(PROVIDER_KEYS) })),
        unsettled,
        injected: `${restarts * 2} stops of ${downMs / 1000} s (SQLite kept): during the open fan-out (Jira create held) and the resolve fan-out (PagerDuty resolve held)`,
      };
    });
    expectClean(result);
  }, scale(6, 15) * 60_000);
});
