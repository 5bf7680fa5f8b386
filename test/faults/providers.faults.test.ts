/**
 * Providers misbehaving: 5xx for a long while then recovering, 429 storms with and without Retry-After,
 * answers that hang past the HTTP timeout after the provider did the work, connection resets before and
 * after the work, and 2xx answers with a malformed body after the work. Each scenario has its own tenant
 * and its own six doubles, so the scenarios run side by side on one worker.
 */
import { dedupKeys, unexplainedResends } from '../helpers/resent-sends';
import { sleep } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import {
  FAST_ENV, PROVIDER_KEYS, Providers, allOpenResolve, expectClean, faultTenant, isCreate, isResolve, linksSettled, printResults,
  processThen, runScenario, scale, settled, type ScenarioResult,
} from './harness';
import type { RecordedRequest, Reply } from '../../dev/doubles/server';

const GROUP = 'providers';

type Phase = 'open' | 'resolve';
interface FaultPlan {
  name: string;
  injected: string;
  /** Install the fault on every double of the set for `phase`; returns when the fault is over (or immediately). */
  install(p: Providers, phase: Phase): Promise<void> | void;
}

const outageMs = scale(20_000, 180_000);
const resolveOutageMs = scale(8_000, 60_000);

/** For the first `n` matching requests per double, answer with `answer` (which may do the work first). */
function firstN(p: Providers, phase: Phase, n: number, answer: (provider: (typeof PROVIDER_KEYS)[number], req: RecordedRequest) => Reply | 'reset' | 'hang' | undefined) {
  for (const provider of PROVIDER_KEYS) {
    let seen = 0;
    p.double(provider).faults.before = (req) => {
      const match = phase === 'open' ? isCreate(provider, req) : isResolve(provider, req);
      if (!match || seen >= n) return undefined;
      seen += 1;
      return answer(provider, req);
    };
  }
}

const PLANS: FaultPlan[] = [
  {
    name: '5xx outage, then recovery',
    injected: `every request 503 for ${outageMs / 1000} s during the opens, then ${resolveOutageMs / 1000} s during the resolves`,
    async install(p, phase) {
      const ms = phase === 'open' ? outageMs : resolveOutageMs;
      const until = Date.now() + ms;
      for (const [, d] of p.all()) d.faults.before = () => (Date.now() < until ? { status: 503, body: 'Service Unavailable' } : undefined);
    },
  },
  {
    name: '429 storm with Retry-After',
    injected: 'first 4 calls of each kind per provider: 429 Retry-After: 1',
    install: (p, phase) => firstN(p, phase, 4, () => ({ status: 429, headers: { 'retry-after': '1' }, body: { message: 'rate limited' } })),
  },
  {
    name: '429 storm without Retry-After',
    injected: 'first 2 calls of each kind per provider: 429, no Retry-After',
    install: (p, phase) => firstN(p, phase, 2, () => ({ status: 429, body: { message: 'rate limited' } })),
  },
  {
    name: 'answer hangs past the timeout (after the work)',
    injected: 'first call of each kind per provider: processed, answer held past the 2 s timeout',
    install(p, phase) {
      for (const provider of PROVIDER_KEYS) {
        let seen = 0;
        p.double(provider).faults.hold = (req) => (phase === 'open' ? isCreate(provider, req) : isResolve(provider, req)) && seen++ === 0;
      }
    },
  },
  {
    name: 'answer hangs past the timeout (before the work)',
    injected: 'first 2 calls of each kind per provider: never answered, not processed',
    install: (p, phase) => firstN(p, phase, 2, () => 'hang'),
  },
  {
    name: 'connection reset before the work',
    injected: 'first 3 calls of each kind per provider: socket destroyed on arrival',
    install: (p, phase) => firstN(p, phase, 3, () => 'reset'),
  },
  {
    name: 'connection reset after the work',
    injected: 'first 2 calls of each kind per provider: processed, then the socket destroyed',
    install: (p, phase) => firstN(p, phase, 2, (provider, req) => processThen(p.double(provider), req, 'reset')),
  },
  {
    name: '2xx with a malformed body (after the work)',
    injected: 'first 2 calls of each kind per provider: processed, answered 2xx with an HTML body',
    install: (p, phase) =>
      firstN(p, phase, 2, (provider, req) => {
        const status = provider === 'servicenow' || provider === 'jira' ? (isCreate(provider, req) ? 201 : 200) : 200;
        return processThen(p.double(provider), req, { status, body: '<html><body>502 Bad Gateway (but 2xx)</body></html>' });
      }),
  },
];

describe('faults: providers misbehaving', () => {
  const sets = PLANS.map(() => new Providers());
  const tenants = PLANS.map((_, i) => faultTenant(`prov${i}`));
  let stack: TestStack;
  const runs = new Map<string, Promise<ScenarioResult>>();

  beforeAll(async () => {
    await Promise.all(sets.map((s) => s.start()));
    stack = await startStack({
      env: { ...FAST_ENV, PROBECTL_NOTIFY_CONNECTORS: sets.flatMap((s, i) => s.entries(tenants[i]!)).join(',') },
    });
    // Every scenario runs concurrently; each test awaits its own.
    PLANS.forEach((plan, i) => {
      const p = sets[i]!;
      const tenant = tenants[i]!;
      const run = runScenario({ group: GROUP, name: plan.name, injected: plan.injected }, async () => {
        await sleep(i * 300); // stagger the starts a little
        const inc = incidentFor(tenant);
        const waitOpen = plan.install(p, 'open');
        await stack.incidents.openIncident(inc);
        await waitOpen;
        await linksSettled(stack, inc.id, 6, outageMs + 180_000);
        p.heal();
        const waitResolve = plan.install(p, 'resolve');
        await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
        await waitResolve;
        const unsettled = await settled(stack, () => tenant, [inc.id], resolveOutageMs + 180_000);
        p.heal();
        const state = await stack.incidents.getIncident(inc.id);
        // Alert and ticket links must end resolved. A chat link may end failed although its post went out (a
        // Slack webhook's 2xx with an unknown body is taken as a rejection: docs/faults.md, F-3); the posts are
        // counted at the doubles either way.
        const notResolved = state.links.filter((l) => l.status !== 'resolved');
        const failed = notResolved.filter((l) => l.provider !== 'slack' && l.provider !== 'teams');
        return {
          expectations: [{ incidentId: inc.id, providers: p, expect: allOpenResolve() }],
          unsettled: unsettled + failed.length,
          ...(notResolved.length ? { notes: `links not resolved: ${notResolved.map((l) => `${l.connectorId}:${l.status}`).join(', ')}` } : {}),
        };
      });
      run.catch(() => undefined);
      runs.set(plan.name, run);
    });
  }, 120_000);

  afterAll(async () => {
    for (const s of sets) s.heal();
    await stack?.stop();
    await Promise.all(sets.map((s) => s.stop()));
    printResults();
  });

  // A trigger PagerDuty received twice (its answer lost to a hang or a reset after the work) must be a retried attempt
  // of the incident's one open activity, never a second activity: read from the incident's history.
  // The double counts every request, answered or not (a 503 or a 429 is a send too); the two plans that lose the answer
  // after the work must make it count one twice, or the check above is not exercised.
  const RESENDS = new Set(['answer hangs past the timeout (after the work)', 'connection reset after the work']);
  PLANS.forEach((plan, i) => {
    test(plan.name, async () => {
      expectClean(await runs.get(plan.name)!);
      const sent = dedupKeys(sets[i]!.pagerduty.events('trigger'));
      expect(await unexplainedResends(stack.client, sent, { connectorId: 'pagerduty' })).toEqual([]);
      if (RESENDS.has(plan.name)) expect(sent.length).toBeGreaterThan(new Set(sent).size);
    }, outageMs + 8 * 60_000);
  });
});
