/**
 * The one implementation of probectl's `sha256=` HMAC signatures, for every side that signs or checks them:
 * the callback to probectl, `POST /ingest/itsm/...`, the CLI's `sign` and the probectl test double.
 *
 *   body form         X-Probectl-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>
 *   timestamped form  X-Probectl-Timestamp: <unix seconds>
 *                     X-Probectl-Signature: sha256=<hex HMAC-SHA256(secret, "v1:" + timestamp + ":" + raw body)>
 *
 * The timestamped form limits what a captured delivery is worth: outside REPLAY_WINDOW_SECONDS it is refused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-probectl-signature';
export const TIMESTAMP_HEADER = 'x-probectl-timestamp';
/** A timestamped signature older or newer than this is refused (replay window). */
export const REPLAY_WINDOW_SECONDS = 300;

export function hmacSha256(secret: string, data: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

/** What is signed: the raw body, or `v1:<timestamp>:<raw body>` in the timestamped form. */
export function signedBytes(body: Buffer | string, timestamp?: string): Buffer {
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return timestamp === undefined ? raw : Buffer.concat([Buffer.from(`v1:${timestamp}:`, 'utf8'), raw]);
}

/** `sha256=<hex>` over the body, or over `v1:<timestamp>:<body>` when a timestamp is given. */
export function probectlSignature(secret: string, body: Buffer | string, timestamp?: string): string {
  return `sha256=${hmacSha256(secret, signedBytes(body, timestamp)).toString('hex')}`;
}

/** Unix seconds as the timestamp header carries them. */
export function unixTimestamp(nowMs: number = Date.now()): string {
  return String(Math.floor(nowMs / 1000));
}

/** Is a timestamp header value well formed and within the replay window of `nowMs`? */
export function timestampProblem(timestamp: string, nowMs: number): string | undefined {
  const t = timestamp.trim();
  if (!/^\d{1,12}$/.test(t)) return 'X-Probectl-Timestamp is not unix seconds';
  if (Math.abs(nowMs / 1000 - Number(t)) > REPLAY_WINDOW_SECONDS) return `X-Probectl-Timestamp is outside the ${REPLAY_WINDOW_SECONDS}s replay window`;
  return undefined;
}

/** Constant-time equality of two 32-byte digests; false for anything of another length. */
export function digestEquals(a: Buffer, b: Buffer): boolean {
  if (a.length !== 32 || b.length !== 32) return false;
  return timingSafeEqual(a, b);
}
