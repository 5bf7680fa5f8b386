/**
 * Postgres text and jsonb cannot hold U+0000, and nothing upstream forbids it (a correlate summary, a resolve reason,
 * an actor, an incident title are any strings). A write carrying one would fail on every try — the API would take
 * it for an outage and the workflow, whose run completes only once its records are in, would retry it forever.
 * Every string a writer records passes through here first: a NUL becomes U+FFFD, the same way for every writer, so
 * keyed records stay idempotent. Pure.
 */
export function storable<T>(v: T): T {
  if (typeof v === 'string') return (v.includes('\u0000') ? v.split('\u0000').join('\ufffd') : v) as T;
  if (Array.isArray(v)) return v.map((x: unknown) => storable(x)) as T;
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [storable(k), storable(x)])) as T;
  }
  return v;
}
