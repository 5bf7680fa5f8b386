/**
 * Postgres text and jsonb cannot hold U+0000, and jsonb refuses a lone UTF-16 surrogate (JSON.stringify writes it
 * as `\udXXX`, which Postgres answers 22P02; a text parameter is silently encoded as U+FFFD by the driver). Nothing
 * upstream forbids either: a provider's webhook body is any JSON (an actor, a reason, a reference), and a client may
 * start the workflow directly. A write carrying one would fail on every try — the API would take it for an outage
 * and the workflow, whose run completes only once its records are in, would retry it forever. Every string a writer
 * records passes through here first: a NUL and a lone surrogate become U+FFFD, the same way for every writer, so
 * keyed records stay idempotent. Pure.
 */
// eslint-disable-next-line no-control-regex -- NUL is what this is about
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `s` holds a UTF-16 surrogate that is not half of a pair (what jsonb refuses). */
export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

export function storableText(s: string): string {
  return s.replace(UNSTORABLE, '\ufffd');
}

export function storable<T>(v: T): T {
  if (typeof v === 'string') return storableText(v) as T;
  if (Array.isArray(v)) return v.map((x: unknown) => storable(x)) as T;
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [storableText(k), storable(x)])) as T;
  }
  return v;
}

/**
 * The instants every timestamptz written here must lie in: years 0001–9999 in UTC. Postgres itself takes 4713 BC to
 * 294276 AD, but refuses a year 0 spelled out (`0000-…`, 22008), an offset past ±15:59 (22009) and a day the month
 * does not have; and what it stores past 9999 or before year 1 would be read back as a year JavaScript's ISO form
 * writes differently (`+010000-…`, `-000001-…`).
 */
/** 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z, in ms (plain numbers: this module builds nothing when it loads). */
const FIRST_MS = -62_135_596_800_000;
const LAST_MS = 253_402_300_799_999;

/**
 * An ISO 8601 date-time as the API takes it (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`): why Postgres could not
 * store it as timestamptz, or undefined when it can. The reason never quotes the value.
 */
export function timestampProblem(s: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-](\d{2}):?(\d{2}))$/i.exec(s);
  if (!m) return 'must be an ISO 8601 date-time with a time zone (YYYY-MM-DDTHH:MM:SSZ or ±HH:MM)';
  const [, y, mo, d, h, mi, sec, , oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (year < 1) return 'year must be 0001–9999';
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(2000, month, 0)).getUTCDate() || (month === 2 && day === 29 && !leap(year))) return 'no such day';
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec ?? 0) > 59) return 'no such time of day (leap seconds are not taken)';
  if (oh !== undefined && (Number(oh) > 15 || Number(om) > 59)) return 'time zone offset must be within ±15:59';
  const ms = Date.parse(s);
  if (!Number.isFinite(ms) || ms < FIRST_MS || ms > LAST_MS) return 'must lie within 0001-01-01T00:00:00Z–9999-12-31T23:59:59Z';
  return undefined;
}

const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * A time as the record path sends it to a timestamptz column: the same instant in JavaScript's ISO form
 * (milliseconds, UTC), which Postgres always takes; an instant outside 0001–9999 is held to the nearest end of that
 * range. Every date a writer records passes through here, so a time that slipped past the edges (a client that
 * starts the workflow directly with `0000-01-01T00:00:00Z`, whose `Date.parse` the workflow's own check accepts) can
 * never make a record fail on every try. A value Date.parse cannot read is passed on unchanged (no writer makes one).
 */
export function storableTime<T extends string | null | undefined>(v: T): T {
  if (typeof v !== 'string') return v;
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) return v;
  return new Date(Math.min(LAST_MS, Math.max(FIRST_MS, ms))).toISOString() as T;
}
