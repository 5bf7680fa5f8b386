import { MAX_PRESENTED_SIGNATURES, anyMatch, type SchemeResult, type SignatureScheme } from '../signature-match';

/** PagerDuty V3 webhooks: comma-separated `v1=<hex>` values (several during secret rotation). */
export const PAGERDUTY_SIGNATURE_HEADER = 'x-pagerduty-signature';

/** PagerDuty V3: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]`; any v1 value may match. */
export function verifyPagerDutySignature(value: string, body: Buffer, secrets: readonly string[]): SchemeResult {
  const presented = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .slice(0, MAX_PRESENTED_SIGNATURES)
    .map((s) => s.slice(3))
    .filter((hex) => /^[0-9a-fA-F]{64}$/.test(hex))
    .map((hex) => Buffer.from(hex, 'hex'));
  if (presented.length === 0) return { ok: false, reason: 'X-PagerDuty-Signature holds no v1=<hex> value' };
  return anyMatch(presented, secrets, body)
    ? { ok: true, method: 'pagerduty-signature' }
    : { ok: false, reason: 'X-PagerDuty-Signature does not match' };
}

export const signature: SignatureScheme = { header: PAGERDUTY_SIGNATURE_HEADER, verify: verifyPagerDutySignature };
