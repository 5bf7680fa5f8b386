/**
 * A connector key's pace holds for the whole deployment across worker PROCESSES (docs/providers.md, "Rate
 * pacing"; test/e2e/pacing-workers.test.ts shows it for three workers in one process): three `node dist/main.js
 * worker` processes on the cluster suite's Temporal server, every connector at one `rate_per_min`, a burst of
 * incidents opened at once through the API. At the PagerDuty double: no 1 s, 10 s or 60 s window over the key's
 * bound, the burst no faster than the rate allows (three processes on their own would send three times the rate),
 * every incident paged exactly once.
 *
 * Sizes (CLUSTER_MODE): reduced (CI) 240/min and 80 incidents (about 20 s at the rate); full 60/min and 300
 * incidents (about five minutes), the issue's figure.
 */
import { STORE_TIMEOUT_MS, capacityFor } from '../../src/activities/pacing';
import { eventually, uniqueId } from '../helpers/shared';
import { Topology, byMode } from './topology';

const RATE = byMode(240, 60);
const BURST = byMode(80, 300);
const BURST_MS = (BURST / RATE) * 60_000;

describe('cluster: one key paced across three worker processes', () => {
  let t: Topology;

  beforeAll(async () => {
    t = await new Topology('pacing').start({ workers: 3, apis: 1, ratePerMin: RATE, env: { PROBECTL_NOTIFY_PACE_WORKERS: '3' } });
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
  }, 60_000);

  test(`${BURST} incidents at once at ${RATE}/min: the key's bound holds across the processes, every incident paged once`, async () => {
    const since = Date.now();
    const ids = Array.from({ length: BURST }, () => uniqueId('pace'));
    for (let i = 0; i < ids.length; i += 20) await Promise.all(ids.slice(i, i + 20).map((id, j) => t.open(id, j % t.apis.length)));
    const pd = t.providers.pagerduty;
    await eventually(() => ids.every((id) => pd.alerts.some((a) => a.dedupKey === `probectl-${id}`)), {
      timeoutMs: BURST_MS + 180_000, intervalMs: 500, what: `${BURST} PagerDuty alerts`,
    });
    for (const id of ids) expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${id}`)).toHaveLength(1);

    const at = pd.events('trigger').map((r) => r.at).filter((x) => x >= since).sort((a, b) => a - b);
    const maxIn = (ms: number) => Math.max(...at.map((x) => at.filter((y) => y >= x && y < x + ms).length));
    const cap = capacityFor(RATE);
    // Grants are exact by the database's clock; arrivals trail them by a store round trip and the request. A worker
    // whose store answer is slower than its timeout paces on its share for a while, and those tokens come on top
    // (docs/providers.md): at most a share's burst and rate over the window.
    const jitter = 2 + Math.ceil((STORE_TIMEOUT_MS * RATE) / 60_000);
    const share = RATE / 3;
    const extra = (ms: number) => Math.min(at.length, capacityFor(share) + (share / 60) * (ms / 1000));
    // Each process says so in its log when it falls back and when the store answers again (src/worker.ts).
    const storeEvents = t.workers.map((w, i) => w.proc.output().split('\n').filter((l) => l.includes('pacing store')).map((l) => {
      const e = JSON.parse(l) as { time: number | string; msg: string; err?: { message?: string } };
      return `worker ${i + 1} at ${((new Date(e.time).getTime() - since) / 1000).toFixed(1)} s: ${e.msg.slice(0, 40)}${e.err?.message ? ` (${e.err.message})` : ''}`;
    }));
    const fellBack = storeEvents.filter((lines) => lines.some((l) => l.includes('failed'))).length;
    console.log(`[cluster] pacing store events: ${storeEvents.flat().join('; ') || 'none'}`);
    const slack = (ms: number) => fellBack * extra(ms);
    console.log(`[cluster] pacing: 3 worker processes, ${RATE}/min, ${BURST} incidents: max ${maxIn(1_000)}/1 s, ${maxIn(10_000)}/10 s, ${maxIn(60_000)}/60 s (bounds ${cap + RATE / 60}, ${cap + (RATE / 60) * 10}, ${cap + RATE}), span ${((at.at(-1)! - at[0]!) / 1000).toFixed(1)} s; ${fellBack} worker(s) fell back to their share`);
    expect(at).toHaveLength(BURST);
    expect(maxIn(1_000)).toBeLessThanOrEqual(cap + RATE / 60 + slack(1_000) + jitter);
    expect(maxIn(10_000)).toBeLessThanOrEqual(cap + (RATE / 60) * 10 + slack(10_000) + jitter);
    expect(maxIn(60_000)).toBeLessThanOrEqual(cap + RATE + slack(60_000) + jitter);
    expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(((BURST - cap) / (RATE / 60) - 1) * 1000);
  }, BURST_MS + 300_000);
});
