/**
 * A connector key's pace holds for the whole deployment across worker PROCESSES (docs/providers.md, "Rate
 * pacing"; test/e2e/pacing-workers.test.ts shows it for three workers in one process): three `node --require ./dist/runtime/workflow-thread-preload.js dist/main.js
 * worker` processes on the cluster suite's Temporal server, every connector at one `rate_per_min`, a burst of
 * incidents opened at once through the API. The PagerDuty key's grants, read from the workers' `pacing grant` debug
 * lines, keep the shared bucket's bound and each process's share's bound over every window
 * (test/helpers/pacing-grants.ts; three processes each pacing on its own would break them); every trigger at the
 * double follows a grant of its own; every incident is paged exactly once (one alert per dedup key; a call that
 * timed out under load is re-sent with the same key, and that send is paced like any other; the id must have one run
 * whose one PagerDuty open activity completed after at least that many attempts, test/helpers/resent-sends.ts).
 *
 * Sizes (CLUSTER_MODE): reduced (CI) 240/min and 80 incidents (about 20 s at the rate); full 60/min and 300
 * incidents (about five minutes), the issue's figure.
 */
import { capacityFor } from '../../src/activities/pacing';
import { arrivalBeforeItsGrant, maxInWindow, pacingBreaches, type PaceGrant } from '../helpers/pacing-grants';
import { dedupKeys, unexplainedResends } from '../helpers/resent-sends';
import { eventually, uniqueId } from '../helpers/shared';
import { Topology, byMode } from './topology';

const RATE = byMode(240, 60);
const BURST = byMode(80, 300);
const BURST_MS = (BURST / RATE) * 60_000;

describe('cluster: one key paced across three worker processes', () => {
  let t: Topology;

  beforeAll(async () => {
    t = await new Topology('pacing').start({ workers: 3, apis: 1, ratePerMin: RATE, env: { PROBECTL_NOTIFY_PACE_WORKERS: '3', LOG_LEVEL: 'debug' } });
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

    const triggers = pd.events('trigger').filter((r) => r.at >= since);
    const at = triggers.map((r) => r.at).sort((a, b) => a - b);
    const cap = capacityFor(RATE);
    type Line = { time: number | string; msg: string; err?: { message?: string }; pace?: { key: string; provider: string; source: 'shared' | 'local'; at: number } };
    // Only the pacing lines, parsed defensively (a line still being written, or stderr between chunks, is skipped).
    const read = () => t.workers.map((w) => w.proc.output().split('\n').filter((l) => l.includes('"pacing grant"') || l.includes('pacing store')).flatMap((l) => {
      try {
        return [JSON.parse(l) as Line];
      } catch {
        return [];
      }
    }));
    const grantCount = () => read().flat().filter((e) => e.msg === 'pacing grant' && e.pace?.provider === 'pagerduty' && e.pace.at >= since).length;
    // A worker's last lines may trail the double's last arrival through the pipe.
    await eventually(() => grantCount() >= at.length, { what: 'a pacing grant line for every trigger' });
    const lines = read();
    // Each process says so in its log when it falls back and when the store answers again (src/worker.ts).
    const storeEvents = lines.map((ls, i) => ls.filter((e) => e.msg.includes('pacing store')).map((e) =>
      `worker ${i + 1} at ${((new Date(e.time).getTime() - since) / 1000).toFixed(1)} s: ${e.msg.slice(0, 40)}${e.err?.message ? ` (${e.err.message})` : ''}`));
    console.log(`[cluster] pacing store events: ${storeEvents.flat().join('; ') || 'none'}`);
    const grants: PaceGrant[] = lines.flatMap((ls, worker) => ls.filter((e) => e.msg === 'pacing grant' && e.pace?.provider === 'pagerduty' && e.pace.at >= since).map((e) => ({ source: e.pace!.source, at: e.pace!.at, worker })));
    const keys = new Set(lines.flat().filter((e) => e.msg === 'pacing grant' && e.pace?.provider === 'pagerduty').map((e) => e.pace!.key));
    const local = grants.filter((g) => g.source === 'local').length;
    console.log(`[cluster] pacing: 3 worker processes, ${RATE}/min, ${BURST} incidents: ${grants.length} grants (${local} from the processes' shares, by ${new Set(grants.map((g) => g.worker)).size} processes); at the double max ${maxInWindow(at, 1_000)}/1 s, ${maxInWindow(at, 10_000)}/10 s, ${maxInWindow(at, 60_000)}/60 s (bucket bounds ${cap + RATE / 60}, ${cap + (RATE / 60) * 10}, ${cap + RATE}), span ${((at.at(-1)! - at[0]!) / 1000).toFixed(1)} s`);
    // Every trigger is one of these incidents', and each was sent. A call that got no answer within the HTTP timeout
    // (the cluster's doubles answer late when two cores are overloaded) is retried with the same dedup key, so the
    // double may count an incident twice while PagerDuty holds one alert for it (checked above); each send took a grant
    // of its own and counts in every bound below.
    const sentKeys = dedupKeys(triggers);
    expect(new Set(sentKeys)).toEqual(new Set(ids.map((id) => `probectl-${id}`)));
    expect(await unexplainedResends(t.stack.client, sentKeys, { connectorId: 'pagerduty' })).toEqual([]);
    if (at.length > BURST) console.log(`[cluster] pacing: ${at.length - BURST} trigger(s) arrived again (a retried call; one alert each at PagerDuty)`);
    expect(keys.size).toBe(1);
    expect(pacingBreaches(grants, RATE, 3)).toEqual([]);
    expect(arrivalBeforeItsGrant(at, grants.map((g) => g.at))).toBeUndefined();
  }, BURST_MS + 300_000);
});
