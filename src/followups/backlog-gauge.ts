/**
 * probectl_notify_follow_ups_due{kind}: follow-ups of this worker's task queue that became due and are not done
 * yet (being tried, or backing off after a failure), counted in Postgres (a SECURITY DEFINER count, migrations/005) when /metrics is scraped,
 * cached for 10 s. Every worker of a queue reports the same number: aggregate with max. The series disappear
 * while Postgres cannot be read (rather than report a wrong number).
 */
import { Gauge, type Registry } from 'prom-client';
import { FOLLOW_UP_KINDS, type FollowUpKind } from '../db/follow-up-store';
import type { NotifyMetrics } from '../observability/metrics';

type Source = () => Promise<Record<FollowUpKind, number>>;

interface Registered {
  sources: Set<Source>;
}

const registered = new WeakMap<Registry, Registered>();
const CACHE_MS = 10_000;

/** Report `source` (one runner's queue) in the registry's gauge; returns the function that removes it again. */
export function reportBacklog(metrics: NotifyMetrics, source: Source): () => void {
  let r = registered.get(metrics.registry);
  if (!r) {
    const sources = new Set<Source>();
    r = { sources };
    registered.set(metrics.registry, r);
    new Gauge({
      name: 'probectl_notify_follow_ups_due',
      help: 'Follow-ups (second resolves, lookup-and-close passes, callbacks to probectl) of this task queue that became due and are not done yet (being tried or backing off), by kind, counted in Postgres. Every worker of a queue reports the same number: aggregate with max.',
      labelNames: ['kind'] as const,
      registers: [metrics.registry],
      async collect() {
        if (sources.size === 0) return;
        try {
          const totals = Object.fromEntries(FOLLOW_UP_KINDS.map((k) => [k, 0])) as Record<FollowUpKind, number>;
          for (const s of sources) {
            const v = await s();
            for (const k of FOLLOW_UP_KINDS) totals[k] += v[k];
          }
          for (const k of FOLLOW_UP_KINDS) this.set({ kind: k }, totals[k]);
        } catch {
          this.reset();
        }
      },
    });
  }
  const cached = cache(source);
  r.sources.add(cached);
  const sources = r.sources;
  return () => void sources.delete(cached);
}

/** One read per CACHE_MS, failures included (a scrape during an outage does not wait on every connect). */
function cache(source: Source): Source {
  let last: { at: number; value?: Record<FollowUpKind, number>; error?: unknown } | undefined;
  return async () => {
    if (!last || Date.now() - last.at >= CACHE_MS) {
      try {
        last = { at: Date.now(), value: await source() };
      } catch (error) {
        last = { at: Date.now(), error };
      }
    }
    if (last.error !== undefined || !last.value) throw last.error ?? new Error('no value');
    return last.value;
  };
}
