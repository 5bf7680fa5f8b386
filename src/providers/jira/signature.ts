import { anyMatch, type SchemeResult, type SignatureScheme } from '../signature-match';

/** Jira Cloud admin webhooks with a secret (WebSub `sha256=<hex>`). */
export const HUB_SIGNATURE_HEADER = 'x-hub-signature';

/** Jira Cloud: `X-Hub-Signature: sha256=<hex>`. */
export function verifyHubSignature(value: string, body: Buffer, secrets: readonly string[]): SchemeResult {
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(value.trim());
  if (!m) return { ok: false, reason: 'X-Hub-Signature is not sha256=<hex>' };
  return anyMatch([Buffer.from(m[1]!, 'hex')], secrets, body)
    ? { ok: true, method: 'hub-signature' }
    : { ok: false, reason: 'X-Hub-Signature does not match' };
}

export const signature: SignatureScheme = { header: HUB_SIGNATURE_HEADER, verify: verifyHubSignature };
