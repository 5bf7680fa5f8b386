import { randomBytes } from 'node:crypto';
import { DoubleServer, type RecordedRequest, type Reply } from './server';

export interface ServiceNowTicket {
  sys_id: string;
  number: string;
  state: string;
  short_description: string;
  description?: string;
  correlation_id?: string;
  correlation_display?: string;
  urgency?: string;
  impact?: string;
  assignment_group?: string;
  caller_id?: string;
  category?: string;
  close_code?: string;
  close_notes?: string;
  /** `YYYY-MM-DD HH:mm:ss`, UTC, as the Table API answers without display values; set on create and every change. */
  sys_updated_on: string;
  createdAt: number;
}

const glideNow = () => new Date().toISOString().slice(0, 19).replace('T', ' ');
type Condition = (t: ServiceNowTicket) => boolean;

/**
 * The encoded-query parts this double understands — `field=value`, `fieldSTARTSWITHvalue`, `sys_updated_on>=` (and
 * `>`, `<=`, `<`) a `YYYY-MM-DD HH:mm:ss` time, `sys_id>` (and `>=`, `<`, `<=`) a sys_id, one or more
 * `ORDERBY[DESC]field` (the first one sorts first, later ones break its ties) — or undefined for anything else
 * (answered 400, so a wrong query fails its test instead of matching everything).
 */
function parseQuery(q: string): { conditions: Condition[]; order: Array<{ field: string; desc: boolean }> } | undefined {
  const conditions: Condition[] = [];
  const order: Array<{ field: string; desc: boolean }> = [];
  const field = (t: ServiceNowTicket, f: string) => String((t as unknown as Record<string, unknown>)[f] ?? '');
  for (const part of q.split('^').filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^ORDERBY(DESC)?([a-z_]+)$/.exec(part))) order.push({ field: m[2]!, desc: Boolean(m[1]) });
    else if ((m = /^([a-z_]+)STARTSWITH(.+)$/.exec(part))) {
      const [f, v] = [m[1]!, m[2]!];
      conditions.push((t) => field(t, f).startsWith(v));
    } else if ((m = /^(sys_updated_on)(>=|<=|>|<)(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})$/.exec(part))) {
      const [f, op, v] = [m[1]!, m[2]!, m[3]!];
      conditions.push((t) => (op === '>=' ? field(t, f) >= v : op === '>' ? field(t, f) > v : op === '<=' ? field(t, f) <= v : field(t, f) < v));
    } else if ((m = /^(sys_id)(>=|<=|>|<)([A-Za-z0-9_-]+)$/.exec(part))) {
      const [f, op, v] = [m[1]!, m[2]!, m[3]!];
      conditions.push((t) => (op === '>=' ? field(t, f) >= v : op === '>' ? field(t, f) > v : op === '<=' ? field(t, f) <= v : field(t, f) < v));
    } else if ((m = /^([a-z_]+)=([^=]*)$/.exec(part))) {
      const [f, v] = [m[1]!, m[2]!];
      conditions.push((t) => field(t, f) === v);
    } else return undefined;
  }
  return { conditions, order };
}

const TABLE = '/api/now/table/incident';
const failure = (status: number, message: string, detail: string): Reply => ({ status, body: { error: { message, detail }, status: 'failure' } });

/**
 * The ServiceNow Table API on `incident`: basic auth (401 otherwise); encoded-query lookups
 * (`sysparm_query=correlation_id=…`, `sysparm_fields`, `sysparm_limit`) answering `{"result":[…]}`;
 * POST → 201 with Location; GET/PATCH by sys_id (404 "No Record found"). Like an instance with the usual
 * data policy: resolving (state 6) needs close_code and close_notes (403 otherwise), and a Closed (7)
 * ticket is read-only (403). Stricter than a real instance (which cuts an over-long value): a short_description over
 * 160 UTF-16 units, a description or close_notes over 4000, is 400.
 */
export class ServiceNowDouble extends DoubleServer {
  readonly tickets: ServiceNowTicket[] = [];

  constructor(private readonly opts: { user: string; password: string }) {
    super((req) => this.#handle(req));
  }

  /** Change a ticket as a person would in ServiceNow (e.g. state 6, Resolved): its sys_updated_on moves. */
  setState(sysId: string, state: string): void {
    const t = this.tickets.find((x) => x.sys_id === sysId);
    if (t) Object.assign(t, { state, sys_updated_on: glideNow() });
  }

  /** The change listings received (a query on sys_updated_on): per-connector reconciliation's reads. */
  changeListings(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'GET' && (r.query.get('sysparm_query') ?? '').includes('sys_updated_on'));
  }

  byCorrelation(id: string): ServiceNowTicket[] {
    return this.tickets.filter((t) => t.correlation_id === id);
  }

  #fields(t: ServiceNowTicket, fields: string | null): Record<string, unknown> {
    const all: Record<string, unknown> = { ...t };
    delete all.createdAt;
    if (!fields) return all;
    return Object.fromEntries(fields.split(',').map((f) => [f, all[f] ?? '']));
  }

  #handle(req: RecordedRequest): Reply {
    const expected = `Basic ${Buffer.from(`${this.opts.user}:${this.opts.password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return failure(401, 'User Not Authenticated', 'Required to provide Auth information');
    const path = req.path.replace('/api/now/v2/table/', '/api/now/table/');
    if (!path.startsWith(TABLE)) return failure(400, 'Invalid table', 'Invalid table');
    const fields = req.query.get('sysparm_fields');
    const id = path.slice(TABLE.length + 1);
    if (path === TABLE && req.method === 'GET') {
      const query = parseQuery(req.query.get('sysparm_query') ?? '');
      if (!query) return failure(400, 'Invalid query', 'sysparm_query holds a part this double does not understand');
      const limit = Number(req.query.get('sysparm_limit') ?? '10000');
      const offset = Number(req.query.get('sysparm_offset') ?? '0');
      if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) return failure(400, 'Invalid paging', 'sysparm_limit/sysparm_offset');
      const hits = this.tickets.filter((t) => query.conditions.every((c) => c(t)));
      const value = (t: ServiceNowTicket, f: string) => String((t as unknown as Record<string, unknown>)[f] ?? '');
      // Plain code-unit order, the same order the conditions' `>`/`<` compare in.
      hits.sort((a, b) => {
        for (const o of query.order) {
          const [x, y] = [value(a, o.field), value(b, o.field)];
          if (x !== y) return (o.desc ? -1 : 1) * (x < y ? -1 : 1);
        }
        return 0;
      });
      return { status: 200, body: { result: hits.slice(offset, offset + limit).map((t) => this.#fields(t, fields)) } };
    }
    if (path === TABLE && req.method === 'POST') {
      const b = req.json as Record<string, string> | undefined;
      if (!b || typeof b !== 'object') return failure(400, 'Exception while reading request', 'The payload is not valid JSON.');
      // ServiceNow is Java: field lengths count UTF-16 units (String.length), not code points.
      if (typeof b.short_description === 'string' && b.short_description.length > 160) {
        return failure(400, 'Invalid field length', 'short_description is longer than 160 characters');
      }
      if (typeof b.description === 'string' && b.description.length > 4_000) return failure(400, 'Invalid field length', 'description is longer than 4000 characters');
      const t: ServiceNowTicket = {
        ...b, sys_id: randomBytes(16).toString('hex'), number: `INC${String(10_001 + this.tickets.length).padStart(7, '0')}`,
        state: '1', short_description: b.short_description ?? '', sys_updated_on: glideNow(), createdAt: Date.now(),
      };
      this.tickets.push(t);
      return { status: 201, headers: { location: `${TABLE}/${t.sys_id}` }, body: { result: this.#fields(t, fields) } };
    }
    const t = this.tickets.find((x) => x.sys_id === id);
    if (!t) return failure(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
    if (req.method === 'GET') return { status: 200, body: { result: this.#fields(t, fields) } };
    if (req.method === 'PATCH' || req.method === 'PUT') {
      const b = (req.json ?? {}) as Record<string, string>;
      if (t.state === '7') return failure(403, 'Operation Failed', 'Closed incidents cannot be modified');
      if (typeof b.close_notes === 'string' && b.close_notes.length > 4_000) return failure(400, 'Invalid field length', 'close_notes is longer than 4000 characters');
      if (String(b.state) === '6' && (!b.close_code || !b.close_notes)) {
        return failure(403, 'Operation Failed', 'Data Policy Exception: the following fields are mandatory: Resolution code, Resolution notes');
      }
      Object.assign(t, b, { state: b.state !== undefined ? String(b.state) : t.state, sys_updated_on: glideNow() });
      return { status: 200, body: { result: this.#fields(t, fields) } };
    }
    return failure(405, 'Method not supported', 'Method not supported');
  }
}
