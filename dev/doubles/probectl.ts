import { SIGNATURE_HEADER, TIMESTAMP_HEADER, digestEquals, hmacSha256, signedBytes, timestampProblem } from '../../src/security/signature';
import type { CallbackEventRecord } from '../../src/shared/records';
import { DoubleServer, type RecordedRequest, type Reply } from './server';

/** One callback event as probectl received it, after its signature was verified: what the callback sends. */
export type ProbectlEvent = CallbackEventRecord;

/**
 * probectl's side of the callback (design.md, docs/inbound.md "probectl is told"): `POST <callback path>`
 * verified as probectl does it — `X-Probectl-Timestamp` within the replay window and `X-Probectl-Signature:
 * sha256=<hex HMAC-SHA256(secret, "v1:" + timestamp + ":" + raw body)>`, or, for a sender configured with the
 * body form, the HMAC of the raw body (only when `acceptBodyForm`). A missing or wrong signature answers 401 and
 * is not recorded as an event; a valid one answers 204. `events` holds every verified delivery (retries
 * included), `accepted()` one per eventId; `forms` says which form each verified delivery used.
 */
export class ProbectlDouble extends DoubleServer {
  readonly events: ProbectlEvent[] = [];
  readonly forms: Array<'timestamped' | 'body'> = [];
  rejected = 0;

  constructor(
    private readonly secret: string,
    private readonly opts: { acceptBodyForm?: boolean; now?: () => number } = {},
  ) {
    super((req) => this.#handle(req));
  }

  #verify(req: RecordedRequest): 'timestamped' | 'body' | undefined {
    const presented = /^sha256=([0-9a-f]{64})$/.exec(req.headers[SIGNATURE_HEADER] ?? '');
    if (!presented) return undefined;
    const digest = Buffer.from(presented[1]!, 'hex');
    const timestamp = req.headers[TIMESTAMP_HEADER];
    if (timestamp !== undefined) {
      if (timestampProblem(timestamp, (this.opts.now ?? Date.now)())) return undefined;
      return digestEquals(digest, hmacSha256(this.secret, signedBytes(req.body, timestamp))) ? 'timestamped' : undefined;
    }
    if (!this.opts.acceptBodyForm) return undefined;
    return digestEquals(digest, hmacSha256(this.secret, signedBytes(req.body))) ? 'body' : undefined;
  }

  /** Verified events, one per eventId (probectl drops a repeated delivery of the same event). */
  accepted(): ProbectlEvent[] {
    const seen = new Set<string>();
    return this.events.filter((e) => (seen.has(e.eventId) ? false : (seen.add(e.eventId), true)));
  }

  #handle(req: RecordedRequest): Reply {
    if (req.method !== 'POST') return { status: 405, body: { error: 'method not allowed' } };
    const form = this.#verify(req);
    if (!form) {
      this.rejected += 1;
      return { status: 401, body: { error: 'bad signature' } };
    }
    const e = req.json as ProbectlEvent | undefined;
    if (!e || typeof e.type !== 'string' || typeof e.incidentId !== 'string') return { status: 400, body: { error: 'not an event' } };
    this.events.push(e);
    this.forms.push(form);
    return { status: 204 };
  }
}
