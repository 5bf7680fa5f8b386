/**
 * Authentication of one inbound delivery (docs/inbound.md). Pure functions over the headers, the raw body
 * and the entry's secrets; every comparison is constant-time and runs over every secret and every
 * presented value without an early exit, so the answer time does not reveal which one nearly matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { InboundProvider } from '../../config/inbound';
import { definitionOf } from '../../providers/registry';
import { anyMatch } from '../../providers/signature-match';
import {
  REPLAY_WINDOW_SECONDS, SIGNATURE_HEADER, TIMESTAMP_HEADER, hmacSha256, signedBytes, timestampProblem,
} from '../../security/signature';

export { REPLAY_WINDOW_SECONDS, SIGNATURE_HEADER, TIMESTAMP_HEADER, hmacSha256 };

/** The headers that can carry a credential, lower-case as Node delivers them. */
export const TOKEN_HEADER = 'x-probectl-token';
export type Headers = Record<string, string | string[] | undefined>;

/** `token`, the probectl signatures, or the method a provider's own scheme names (`hub-signature`, `pagerduty-signature`). */
export type AuthMethod = 'token' | 'probectl-signature' | 'probectl-signature-timestamped' | (string & {});

export type VerifyResult = { ok: true; method: AuthMethod } | { ok: false; reason: string };

/** One header's value; a repeated header is refused rather than guessed at. */
export function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  if (Array.isArray(v)) return v.length === 1 ? v[0] : undefined;
  return v;
}

/** The signature headers an entry of this provider accepts, besides X-Probectl-Token. */
export function signatureHeadersFor(provider: InboundProvider): string[] {
  const own = definitionOf(provider).inbound?.signature;
  return [SIGNATURE_HEADER, ...(own ? [own.header] : [])];
}

/** Is any credential header present for this provider (a first, cheap check before anything is read)? */
export function hasCredential(provider: InboundProvider, headers: Headers): boolean {
  return [TOKEN_HEADER, ...signatureHeadersFor(provider)].some((h) => headers[h] !== undefined);
}

const sha256 = (v: string | Buffer): Buffer => createHash('sha256').update(v).digest();

/**
 * X-Probectl-Token against the entry's secrets. Both sides are hashed first, so the comparison is over
 * equal lengths whatever was presented, and every secret is compared.
 */
export function tokenMatches(presented: string, secrets: readonly string[]): boolean {
  const p = sha256(Buffer.from(presented, 'utf8'));
  let ok = false;
  for (const s of secrets) {
    if (timingSafeEqual(p, sha256(Buffer.from(s, 'utf8')))) ok = true;
  }
  return ok;
}

/**
 * The 32 bytes of a presented HMAC-SHA256: 64 hex digits, or base64 (standard or URL-safe, padded or
 * not) as ServiceNow scripts produce it. Undefined for anything else (a truncated value included).
 */
export function decodeDigest(text: string): Buffer | undefined {
  const v = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Buffer.from(v, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(v)) {
    const b = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return b.length === 32 ? b : undefined;
  }
  return undefined;
}

/**
 * `X-Probectl-Signature: sha256=<hex|base64 HMAC-SHA256(secret, raw body)>`. With `X-Probectl-Timestamp:
 * <unix seconds>` the HMAC is over `v1:<timestamp>:<raw body>` instead, and a timestamp outside the replay
 * window is refused.
 */
export function verifyProbectlSignature(
  value: string,
  timestamp: string | undefined,
  body: Buffer,
  secrets: readonly string[],
  nowMs: number,
): VerifyResult {
  const m = /^sha256=(.+)$/i.exec(value.trim());
  const digest = m ? decodeDigest(m[1]!) : undefined;
  if (!digest) return { ok: false, reason: 'X-Probectl-Signature is not sha256=<hex or base64 HMAC>' };
  if (timestamp === undefined) {
    return anyMatch([digest], secrets, body) ? { ok: true, method: 'probectl-signature' } : { ok: false, reason: 'X-Probectl-Signature does not match' };
  }
  const problem = timestampProblem(timestamp, nowMs);
  if (problem) return { ok: false, reason: problem };
  return anyMatch([digest], secrets, signedBytes(body, timestamp.trim()))
    ? { ok: true, method: 'probectl-signature-timestamped' }
    : { ok: false, reason: 'X-Probectl-Signature does not match' };
}

/**
 * The signature step (after the token step and the body limit): the first signature header present for
 * this provider decides. X-Probectl-Signature wins over the provider's own header when both are present.
 */
export function verifySignature(
  provider: InboundProvider,
  headers: Headers,
  body: Buffer,
  secrets: readonly string[],
  nowMs: number,
  opts: { requireTimestamp?: boolean } = {},
): VerifyResult {
  const probectl = header(headers, SIGNATURE_HEADER);
  const timestamp = header(headers, TIMESTAMP_HEADER);
  if (opts.requireTimestamp) {
    // The entry accepts only the timestamped form: a captured delivery is worthless after the replay window.
    if (probectl === undefined || timestamp === undefined) return { ok: false, reason: 'this entry requires a timestamped X-Probectl-Signature' };
    return verifyProbectlSignature(probectl, timestamp, body, secrets, nowMs);
  }
  if (probectl !== undefined) return verifyProbectlSignature(probectl, timestamp, body, secrets, nowMs);
  const own = definitionOf(provider).inbound?.signature;
  const value = own ? header(headers, own.header) : undefined;
  if (own && value !== undefined) return own.verify(value, body, secrets);
  return { ok: false, reason: 'no signature header' };
}
