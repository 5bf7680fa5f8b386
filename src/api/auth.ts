import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiToken } from '../config/api-tokens';

const digest = (v: string): Buffer => createHash('sha256').update(v, 'utf8').digest();

/**
 * Bearer tokens bound to one tenant. Every configured token is compared (in constant time, over digests
 * of equal length) so the answer time does not reveal which one nearly matched.
 */
export class TokenAuthenticator {
  readonly #tokens: Array<{ tenantId: string; digest: Buffer }>;

  constructor(tokens: readonly ApiToken[]) {
    this.#tokens = tokens.map((t) => ({ tenantId: t.tenantId, digest: digest(t.token.reveal()) }));
  }

  /** The tenant of an `Authorization: Bearer <token>` header; undefined when missing or wrong. */
  tenantFor(authorization: string | undefined): string | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) return undefined;
    const presented = digest(m[1]!);
    let tenant: string | undefined;
    for (const t of this.#tokens) {
      if (timingSafeEqual(presented, t.digest)) tenant = t.tenantId;
    }
    return tenant;
  }
}
