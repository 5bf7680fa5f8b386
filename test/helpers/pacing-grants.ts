/**
 * The pacing bound, checked where it is decided: on the grants of one key (the pacer's onGrant, or the worker's
 * `pacing grant` debug lines), by the clock that decided each — the database's for the shared bucket, the worker's
 * own for its share. No timing margin: arrivals at a double also carry each call's own delay after its grant (the
 * store's answer, the activity, the request), which no pacer bounds, so what ties them to the grants is order only —
 * every call was sent after a grant of its own, so the k-th arrival (sorted) is no earlier than the k-th grant.
 */
import { capacityFor } from '../../src/activities/pacing';

export interface PaceGrant {
  source: 'shared' | 'local';
  /** Epoch ms by the deciding clock. */
  at: number;
  /** Which worker (process or pacer) granted it. */
  worker: number;
}

/**
 * The first pair of times (sorted) between which a token bucket of `capacity` refilled at `perMinute` could not have
 * granted them all — more grants, both ends counted, than `capacity` + `perMinute` × their distance — or undefined
 * when every pair keeps the bound (every window, not only 1 s or 10 s ones).
 */
export function bucketBreach(times: readonly number[], perMinute: number, capacity: number): string | undefined {
  const t = [...times].sort((a, b) => a - b);
  for (let i = 0; i < t.length; i += 1) {
    for (let j = i + capacity; j < t.length; j += 1) {
      const allowed = capacity + ((t[j]! - t[i]!) * perMinute) / 60_000;
      // The database's grant times arrive as epoch ms in float8 (about 0.24 µs apart at today's epoch): 1 µs of refill.
      if (j - i + 1 > allowed + perMinute / 60_000_000 + 1e-9) return `${j - i + 1} grants in ${(t[j]! - t[i]!).toFixed(1)} ms (#${i}..#${j}), a bucket of ${capacity} at ${perMinute}/min allows ${allowed.toFixed(2)}`;
    }
  }
  return undefined;
}

/**
 * Every way the grants of one key break the pacer's buckets: the shared grants (all workers together) against the
 * key's bucket, and each worker's own grants (while the store failed) against its share's bucket
 * (rate ÷ PROBECTL_NOTIFY_PACE_WORKERS). The deployment's total in a window is at most the sum of the two.
 */
export function pacingBreaches(grants: readonly PaceGrant[], perMinute: number, paceWorkers: number): string[] {
  const out: string[] = [];
  const shared = bucketBreach(grants.filter((g) => g.source === 'shared').map((g) => g.at), perMinute, capacityFor(perMinute));
  if (shared) out.push(`shared bucket: ${shared}`);
  const share = perMinute / paceWorkers;
  for (const w of new Set(grants.filter((g) => g.source === 'local').map((g) => g.worker))) {
    const own = bucketBreach(grants.filter((g) => g.source === 'local' && g.worker === w).map((g) => g.at), share, capacityFor(share));
    if (own) out.push(`worker ${w}'s share: ${own}`);
  }
  return out;
}

/** The first arrival that came before as many grants had been made, or undefined (arrival times are whole ms). */
export function arrivalBeforeItsGrant(arrivals: readonly number[], grants: readonly number[]): string | undefined {
  const a = [...arrivals].sort((x, y) => x - y);
  const g = [...grants].sort((x, y) => x - y);
  if (g.length < a.length) return `${a.length} arrivals but only ${g.length} grants`;
  const k = a.findIndex((t, i) => t < Math.floor(g[i]!));
  return k < 0 ? undefined : `arrival #${k} at ${a[k]} before the ${k + 1}th grant at ${g[k]}`;
}

/** The most of `times` (in any order) in any window of `ms`. */
export function maxInWindow(times: readonly number[], ms: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < t.length; i += 1) {
    while (t[i]! - t[j]! >= ms) j += 1;
    best = Math.max(best, i - j + 1);
  }
  return best;
}
