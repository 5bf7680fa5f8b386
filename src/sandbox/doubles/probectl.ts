import { createHmac, timingSafeEqual } from 'node:crypto';
import { DoubleServer, type RecordedRequest, type Reply } from './server';

/** One callback event as probectl received it, after its signature was verified. */
export interface ProbectlEvent {
  type: string;
  eventId: string;
  incidentId: string;
  tenantId: string;
  source: string;
  actor?: string;
  at: string;
  links?: Array<{ connectorId: string; provider: string; status: string; externalRef?: string }>;
}

/**
 * probectl's side of the callback (design.md): `POST <callback path>` with `X-Probectl-Signature:
 * sha256=<hex HMAC-SHA256(secret, raw body)>`. A missing or wrong signature answers 401 and is not
 * recorded as an event; a valid one answers 204. `events` holds every verified delivery (retries
 * included), `accepted()` one per eventId.
 */
export class ProbectlDouble extends DoubleServer {
  readonly events: ProbectlEvent[] = [];
  rejected = 0;

  constructor(private readonly secret: string) {
    super((req) => this.#handle(req));
  }

  /** Verified events, one per eventId (probectl drops a repeated delivery of the same event). */
  accepted(): ProbectlEvent[] {
    const seen = new Set<string>();
    return this.events.filter((e) => (seen.has(e.eventId) ? false : (seen.add(e.eventId), true)));
  }

  #handle(req: RecordedRequest): Reply {
    if (req.method !== 'POST') return { status: 405, body: { error: 'method not allowed' } };
    const presented = /^sha256=([0-9a-f]{64})$/.exec(req.headers['x-probectl-signature'] ?? '');
    const expected = createHmac('sha256', this.secret).update(req.body, 'utf8').digest();
    if (!presented || !timingSafeEqual(Buffer.from(presented[1]!, 'hex'), expected)) {
      this.rejected += 1;
      return { status: 401, body: { error: 'bad signature' } };
    }
    const e = req.json as ProbectlEvent | undefined;
    if (!e || typeof e.type !== 'string' || typeof e.incidentId !== 'string') return { status: 400, body: { error: 'not an event' } };
    this.events.push(e);
    return { status: 204 };
  }
}
