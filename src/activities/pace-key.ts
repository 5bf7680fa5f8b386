import { createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The name of a connector key's pacing bucket (docs/providers.md, "Rate pacing"): `<provider>:<24 hex>`, the first 96
 * bits of HMAC-SHA-256 over the endpoint URL, the credential and the Slack channel. The HMAC key is derived (HKDF) from
 * PROBECTL_NOTIFY_PACE_KEY_SECRET, which every worker of a deployment shares and which is never stored in Postgres: the
 * stored name cannot be recomputed from a guessed URL + credential (no offline password-guessing oracle for a
 * ServiceNow basic-auth credential), while every worker with the same secret names a key the same.
 *
 * Only node:crypto at run time, so a test can load this file in a separate process.
 */
export type PaceKeyMaterial = Buffer;

const INFO = 'probectl-notify/pace-key/v1';

/** The HMAC key for a deployment secret. */
export function paceKeyMaterial(secret: string): PaceKeyMaterial {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), INFO, 32));
}

/** A key for one process only (no shared store): random, never leaves the process. */
export function processPaceKeyMaterial(): PaceKeyMaterial {
  return randomBytes(32);
}

export function derivePaceKey(material: PaceKeyMaterial, provider: string, url: string, credential: string, channel: string): string {
  const h = createHmac('sha256', material).update(`${url}\u0000${credential}\u0000${channel}`).digest('hex');
  return `${provider}:${h.slice(0, 24)}`;
}
