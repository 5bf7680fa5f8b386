import { randomUUID } from 'node:crypto';
import { DoubleServer, type RecordedRequest, type Reply } from './server';

export interface OpsgenieAlert {
  id: string;
  alias: string;
  message: string;
  priority: string;
  description?: string;
  tags: string[];
  details: Record<string, string>;
  status: 'open' | 'closed';
  acknowledged: boolean;
  /** Creates coalesced into this alert (1 = the one that created it). */
  count: number;
  /** Which endpoint created it: `/v2/alerts` or `/jsm/ops/integration/v2/alerts`. */
  basePath: string;
  createdAt: number;
  /** Epoch ms of the last change (create, close, acknowledge, setState). */
  updatedAt: number;
}

interface AlertRequest {
  id: string;
  action: string;
  processedAt: number;
  isSuccess: boolean;
  status: string;
  alertId?: string;
  alias?: string;
}

/**
 * Opsgenie's Alert API (and the JSM ops integration endpoint, same body under another base path) as the
 * docs describe it: `GenieKey` auth (401 otherwise); create/close/acknowledge answer 202 with a requestId
 * and are processed asynchronously — GET …/alerts/requests/{id} answers 404 until then; a create with the
 * alias of an open alert raises its count instead of creating another; close/acknowledge by alias of an
 * alias with nothing open still answer 202 and report "Alert does not exist" in the request status.
 * Stricter than the real API in one place: a message over 130 characters is refused (422), so truncation shows.
 */
export class OpsgenieDouble extends DoubleServer {
  readonly alerts: OpsgenieAlert[] = [];
  readonly alertRequests: AlertRequest[] = [];

  constructor(private readonly opts: { apiKey: string; processingMs?: number }) {
    super((req) => this.#handle(req));
  }

  openAlerts(): OpsgenieAlert[] {
    return this.alerts.filter((a) => a.status === 'open');
  }

  /** Close or acknowledge an alert as a person would in Opsgenie (no webhook): its updatedAt moves. */
  setState(alias: string, change: { status?: 'open' | 'closed'; acknowledged?: boolean }): void {
    const a = this.alerts.filter((x) => x.alias === alias).pop();
    if (a) Object.assign(a, change, { updatedAt: Date.now() });
  }

  /** The List Alerts requests received: per-connector reconciliation's reads. */
  changeListings(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'GET' && /\/v2\/alerts\/?$/.test(r.path));
  }

  byAlias(alias: string): OpsgenieAlert[] {
    return this.alerts.filter((a) => a.alias === alias);
  }

  #accepted(action: string, outcome: Omit<AlertRequest, 'id' | 'action' | 'processedAt'>): Reply {
    const id = randomUUID();
    this.alertRequests.push({ id, action, processedAt: Date.now() + (this.opts.processingMs ?? 30), ...outcome });
    return { status: 202, body: { result: 'Request will be processed', took: 0.01, requestId: id } };
  }

  #handle(req: RecordedRequest): Reply {
    const took = 0.001;
    if (req.headers.authorization !== `GenieKey ${this.opts.apiKey}`) {
      return { status: 401, body: { message: 'Could not authenticate', took, requestId: randomUUID() } };
    }
    const m = /^(.*\/v2\/alerts)(?:\/(.*))?$/.exec(req.path);
    if (!m) return { status: 404, body: { message: 'Not found', took } };
    const basePath = m[1]!;
    const rest = (m[2] ?? '').split('/').map(decodeURIComponent);
    if (req.method === 'GET' && rest[0] === 'requests' && rest.length === 2) {
      const r = this.alertRequests.find((x) => x.id === rest[1]);
      if (!r || r.processedAt > Date.now()) return { status: 404, body: { message: 'Request not found. It might not be processed, yet.', took } };
      return {
        status: 200,
        body: { data: { success: r.isSuccess, isSuccess: r.isSuccess, action: r.action, status: r.status, alertId: r.alertId ?? '', alias: r.alias ?? '' }, took, requestId: randomUUID() },
      };
    }
    if (req.method === 'GET' && rest.length === 1 && rest[0]) {
      const idType = req.query.get('identifierType') ?? 'id';
      const matches = this.alerts.filter((a) => (idType === 'alias' ? a.alias : a.id) === rest[0]);
      const alert = matches.find((a) => a.status === 'open') ?? matches[matches.length - 1];
      if (!alert) return { status: 404, body: { message: 'Alert with the given identifier does not exist.', took } };
      return {
        status: 200,
        body: { data: { id: alert.id, alias: alert.alias, message: alert.message, status: alert.status, acknowledged: alert.acknowledged, count: alert.count }, took, requestId: randomUUID() },
      };
    }
    if (req.method === 'GET' && (m[2] === undefined || m[2] === '')) return this.#list(req);
    if (req.method === 'POST' && m[2] === undefined) return this.#create(req, basePath);
    if (req.method === 'POST' && rest.length === 2 && (rest[1] === 'close' || rest[1] === 'acknowledge')) {
      const idType = req.query.get('identifierType') ?? 'id';
      const open = this.alerts.find((a) => (idType === 'alias' ? a.alias : a.id) === rest[0] && a.status === 'open');
      const action = rest[1] === 'close' ? 'Close' : 'Acknowledge';
      if (!open) return this.#accepted(action, { isSuccess: false, status: 'Alert does not exist', alias: rest[0]! });
      if (rest[1] === 'close') open.status = 'closed';
      else open.acknowledged = true;
      open.updatedAt = Date.now();
      return this.#accepted(action, { isSuccess: true, status: rest[1] === 'close' ? 'Closed alert' : 'Acknowledged alert', alertId: open.id, alias: open.alias });
    }
    return { status: 404, body: { message: 'Not found', took } };
  }

  /**
   * List Alerts: `query` of `tag:<t>` / `status:<open|closed>` terms joined by AND (anything else is refused with
   * 400, so a wrong query fails its test), `sort` createdAt|updatedAt, `order` asc|desc, `limit` 1–100, `offset`
   * with offset + limit ≤ 20,000 (422 past it, as the API).
   */
  #list(req: RecordedRequest): Reply {
    const took = 0.001;
    const bad = (message: string, status = 400): Reply => ({ status, body: { message, took, requestId: randomUUID() } });
    const terms = (req.query.get('query') ?? '').split(/\s+AND\s+/).filter(Boolean);
    const tests: Array<(a: OpsgenieAlert) => boolean> = [];
    for (const t of terms) {
      const m = /^(tag|status):([A-Za-z0-9._:-]+)$/.exec(t);
      if (!m) return bad(`Invalid query: ${t.slice(0, 60)}`);
      const v = m[2]!;
      tests.push(m[1] === 'tag' ? (a) => a.tags.includes(v) : (a) => a.status === v);
    }
    const sort = req.query.get('sort') ?? 'createdAt';
    const order = req.query.get('order') ?? 'desc';
    const limit = Number(req.query.get('limit') ?? '20');
    const offset = Number(req.query.get('offset') ?? '0');
    if (sort !== 'createdAt' && sort !== 'updatedAt') return bad('Invalid sort field');
    if (order !== 'asc' && order !== 'desc') return bad('Invalid order');
    if (!Number.isInteger(limit) || limit < 1 || limit > 100 || !Number.isInteger(offset) || offset < 0) return bad('Invalid paging');
    if (offset + limit > 20_000) return bad('Offset + limit can not be greater than 20000', 422);
    const key = sort === 'updatedAt' ? 'updatedAt' : 'createdAt';
    const hits = this.alerts.filter((a) => tests.every((f) => f(a))).sort((a, b) => (order === 'asc' ? a[key] - b[key] : b[key] - a[key]));
    const page = hits.slice(offset, offset + limit).map((a) => ({
      id: a.id, alias: a.alias, message: a.message, status: a.status, acknowledged: a.acknowledged, tags: a.tags, count: a.count,
      priority: a.priority, createdAt: new Date(a.createdAt).toISOString(), updatedAt: new Date(a.updatedAt).toISOString(),
    }));
    const paging = offset + limit < hits.length ? { next: `${this.url}/v2/alerts?offset=${offset + limit}&limit=${limit}` } : {};
    return { status: 200, body: { data: page, paging, took, requestId: randomUUID() } };
  }

  #create(req: RecordedRequest, basePath: string): Reply {
    const b = req.json as Record<string, any> | undefined;
    const invalid = (message: string, status = 422): Reply => ({ status, body: { message, took: 0.001, requestId: randomUUID() } });
    if (!b || typeof b !== 'object') return invalid('Invalid JSON', 400);
    if (typeof b.message !== 'string' || b.message.trim() === '') return invalid('Message can not be empty.');
    // Opsgenie is Java: its limits count UTF-16 units (String.length), not code points.
    if (b.message.length > 130) return invalid('Message can not be longer than 130 characters.');
    if (b.alias !== undefined && (typeof b.alias !== 'string' || b.alias.length > 512)) return invalid('Alias can not be longer than 512 characters.');
    if (b.priority !== undefined && !/^P[1-5]$/.test(b.priority)) return invalid('Priority should be one of [P1, P2, P3, P4, P5]');
    if (typeof b.description === 'string' && b.description.length > 15_000) return invalid('Description can not be longer than 15000 characters.');
    if (Array.isArray(b.tags) && b.tags.length > 20) return invalid('Tags can not be more than 20.');
    if (Array.isArray(b.tags) && b.tags.some((t: unknown) => typeof t !== 'string' || t.length > 50)) return invalid('Tags can not be longer than 50 characters.');
    if (typeof b.entity === 'string' && b.entity.length > 512) return invalid('Entity can not be longer than 512 characters.');
    if (b.details !== undefined && JSON.stringify(b.details).length > 8_000) return invalid('Details can not be longer than 8000 characters.');
    const alias = typeof b.alias === 'string' ? b.alias : randomUUID();
    const open = this.alerts.find((a) => a.alias === alias && a.status === 'open');
    if (open) {
      open.count += 1;
      return this.#accepted('Create', { isSuccess: true, status: 'Created alert', alertId: open.id, alias });
    }
    const alert: OpsgenieAlert = {
      id: randomUUID(), alias, message: b.message, priority: b.priority ?? 'P3',
      ...(typeof b.description === 'string' ? { description: b.description } : {}),
      tags: Array.isArray(b.tags) ? b.tags : [], details: b.details ?? {}, status: 'open', acknowledged: false, count: 1, basePath, createdAt: Date.now(), updatedAt: Date.now(),
    };
    this.alerts.push(alert);
    return this.#accepted('Create', { isSuccess: true, status: 'Created alert', alertId: alert.id, alias });
  }
}
