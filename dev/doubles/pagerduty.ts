import { DoubleServer, type RecordedRequest, type Reply } from './server';

export interface PagerDutyAlert {
  routingKey: string;
  dedupKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  summary: string;
  severity: string;
  /** Triggers coalesced into this alert (1 = the one that created it). */
  triggers: number;
  createdAt: number;
  resolvedAt?: number;
}

const SEVERITIES = new Set(['critical', 'error', 'warning', 'info']);
/** The Events API's limit on one event (its JSON), in bytes. */
export const MAX_EVENT_BYTES = 512 * 1024;

/**
 * PagerDuty Events API v2 as the docs describe it: 202 for accepted events; 400 "invalid event" for a bad
 * body (summary over 1024 UTF-16 units, an event over 512 KB); a trigger with the dedup_key of an open alert is coalesced into it; acknowledge and resolve act on
 * the open alert with that key (same routing key) and are dropped otherwise; after a resolve a new trigger
 * opens a new alert.
 */
export class PagerDutyDouble extends DoubleServer {
  readonly alerts: PagerDutyAlert[] = [];

  constructor() {
    super((req) => this.#handle(req));
  }

  /** Alerts not resolved. */
  openAlerts(): PagerDutyAlert[] {
    return this.alerts.filter((a) => a.status !== 'resolved');
  }

  /** Requests that are events (POST /v2/enqueue). */
  events(action?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith('/enqueue') && (!action || (r.json as { event_action?: string })?.event_action === action));
  }

  #handle(req: RecordedRequest): Reply {
    if (req.method !== 'POST' || !req.path.endsWith('/v2/enqueue')) return { status: 404, body: { status: 'not found' } };
    const invalid = (errors: string[]): Reply => ({ status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors } });
    const e = req.json as Record<string, any> | undefined;
    if (req.bytes > MAX_EVENT_BYTES) return invalid([`the event is larger than ${MAX_EVENT_BYTES} bytes`]);
    if (!e || typeof e !== 'object') return invalid(['body is not JSON']);
    if (typeof e.routing_key !== 'string' || e.routing_key.length === 0) return invalid(["'routing_key' is missing or blank"]);
    const action = e.event_action;
    if (!['trigger', 'acknowledge', 'resolve'].includes(action)) return invalid(["'event_action' is invalid"]);
    const key = e.dedup_key;
    if (key !== undefined && (typeof key !== 'string' || key.length > 255)) return invalid(["'dedup_key' is invalid"]);
    if (action !== 'trigger' && !key) return invalid(["'dedup_key' is required for acknowledge and resolve"]);
    const open = this.alerts.find((a) => a.routingKey === e.routing_key && a.dedupKey === key && a.status !== 'resolved');
    if (action === 'trigger') {
      const p = e.payload;
      if (!p || typeof p.summary !== 'string' || !p.summary || typeof p.source !== 'string' || !SEVERITIES.has(p.severity)) {
        return invalid(["'payload' needs summary, source and a valid severity"]);
      }
      if (p.summary.length > 1024) return invalid(["'payload.summary' is longer than 1024 characters"]);
      const dedupKey = key ?? `generated-${this.alerts.length + 1}`;
      if (open) open.triggers += 1;
      else {
        this.alerts.push({ routingKey: e.routing_key, dedupKey, status: 'triggered', summary: p.summary, severity: p.severity, triggers: 1, createdAt: Date.now() });
      }
      return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey } };
    }
    if (open) {
      if (action === 'acknowledge' && open.status === 'triggered') open.status = 'acknowledged';
      if (action === 'resolve') {
        open.status = 'resolved';
        open.resolvedAt = Date.now();
      }
    }
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: key } };
  }
}
