import { digestEquals, hmacSha256 } from '../security/signature';

/** What one signature scheme answers: which method authenticated the delivery, or why it did not. */
export type SchemeResult = { ok: true; method: string } | { ok: false; reason: string };

/**
 * A provider's own signature header and its check (besides X-Probectl-Signature, which every provider accepts).
 * `verify` is pure and constant-time over every secret and every presented value.
 */
export interface SignatureScheme {
  /** The header, lower-case as Node delivers it. */
  header: string;
  verify(value: string, body: Buffer, secrets: readonly string[]): SchemeResult;
}

/** More presented signatures than this are not looked at (a header is not a work queue). */
export const MAX_PRESENTED_SIGNATURES = 8;

/** Does any presented digest equal HMAC(secret, data) for any secret? Every pair is compared, without an early exit. */
export function anyMatch(presented: readonly Buffer[], secrets: readonly string[], data: Buffer): boolean {
  let ok = false;
  for (const s of secrets) {
    const expected = hmacSha256(s, data);
    for (const p of presented) {
      if (digestEquals(p, expected)) ok = true;
    }
  }
  return ok;
}
