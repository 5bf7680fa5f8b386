import { PROVIDER_SPECS } from '../connectors/specs';
import { PROVIDERS, type Provider } from '../shared/contract';
import { TENANT_ID_PATTERN } from '../shared/ids';
import { splitEntries } from './connectors';
import { ConfigError } from './errors';
import { Secret } from './secret';

export const INBOUND_SETTING = 'PROBECTL_NOTIFY_INBOUND';
export const INBOUND_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const MIN_INBOUND_SECRET_LENGTH = 16;
/** Old and new secret while rotating. */
export const MAX_SECRETS_PER_ENTRY = 2;

/** Providers that can deliver status back (pagers and ticketing). Chat posts have no inbound. */
export type InboundProvider = Exclude<Provider, 'slack' | 'teams'>;
export const INBOUND_PROVIDERS: readonly InboundProvider[] = PROVIDERS.filter(
  (p): p is InboundProvider => PROVIDER_SPECS[p].kind !== 'chat',
);

export interface InboundEntry {
  /** 1-based position in the setting, for messages. */
  position: number;
  /** `{id}` of `POST /ingest/itsm/{provider}/{id}`. */
  id: string;
  /** The tenant every delivery on this entry belongs to: never taken from the payload. */
  tenantId: string;
  provider: InboundProvider;
  /**
   * The shared secrets: the X-Probectl-Token value and the HMAC key of every signature scheme. A list so
   * that an entry can carry an old and a new secret while they are rotated: list the same
   * `id:tenant:provider` twice with the two secrets, then drop the old one.
   */
  secrets: Secret[];
}

/**
 * Parse `id:tenant:provider:secret` entries, split on the first three colons (the secret may contain
 * colons). Unset or blank: no entry, and every inbound delivery is refused. Every problem names the entry
 * by position (and id/tenant/provider once they are known), never its secret.
 */
export function parseInbound(raw: string | undefined): InboundEntry[] {
  if (raw === undefined || raw.trim() === '') return [];
  const problems: string[] = [];
  const entries: InboundEntry[] = [];
  const seenIds = new Map<string, number>();

  splitEntries(raw).forEach((entry, index) => {
    const position = index + 1;
    const parts = splitFirst(entry, ':', 3);
    if (parts.length !== 4) {
      problems.push(`entry #${position}: expected id:tenant:provider:secret (the secret may contain colons)`);
      return;
    }
    const [id, tenantId, providerRaw, secret] = parts as [string, string, string, string];
    if (!INBOUND_ID_PATTERN.test(id)) {
      problems.push(`entry #${position}: the id must match ${INBOUND_ID_PATTERN.source}`);
      return;
    }
    const here = `entry #${position} (id ${JSON.stringify(id)})`;
    if (!TENANT_ID_PATTERN.test(tenantId)) {
      problems.push(`${here}: the tenant must match ${TENANT_ID_PATTERN.source}`);
      return;
    }
    const provider = providerRaw.toLowerCase() as Provider;
    if (!PROVIDERS.includes(provider)) {
      problems.push(`${here}: unknown provider ${(/^[A-Za-z]{1,20}$/.test(providerRaw) ? JSON.stringify(providerRaw) : '(not shown: it does not look like a provider name)')}; expected one of ${INBOUND_PROVIDERS.join(', ')}`);
      return;
    }
    if (!(INBOUND_PROVIDERS as readonly string[]).includes(provider)) {
      problems.push(`${here}: ${provider} is a chat provider and has no inbound; expected one of ${INBOUND_PROVIDERS.join(', ')}`);
      return;
    }
    if (secret.length < MIN_INBOUND_SECRET_LENGTH || /\s/.test(secret)) {
      problems.push(`${here}: the secret must be at least ${MIN_INBOUND_SECRET_LENGTH} characters without whitespace`);
      return;
    }
    const clash = seenIds.get(id);
    if (clash !== undefined) {
      // The same id twice, for the same tenant and provider, is a secret rotation: both secrets are accepted
      // until the old entry is removed.
      const first = entries.find((e) => e.id === id)!;
      if (first.tenantId !== tenantId || first.provider !== provider) {
        problems.push(`${here}: the id is already used by entry #${clash} for another tenant or provider`);
      } else if (first.secrets.length >= MAX_SECRETS_PER_ENTRY) {
        problems.push(`${here}: an entry may carry at most ${MAX_SECRETS_PER_ENTRY} secrets at once (old and new, while rotating)`);
      } else if (first.secrets.some((s) => s.reveal() === secret)) {
        problems.push(`${here}: the same secret is listed twice for this id`);
      } else {
        first.secrets.push(new Secret(secret));
      }
      return;
    }
    seenIds.set(id, position);
    entries.push({ position, id, tenantId, provider: provider as InboundProvider, secrets: [new Secret(secret)] });
  });

  if (problems.length > 0) throw new ConfigError(INBOUND_SETTING, problems);
  return entries;
}

/** Split on the first `n` occurrences of `sep`: at most n + 1 parts, the last one keeps the rest. */
function splitFirst(text: string, sep: string, n: number): string[] {
  const parts: string[] = [];
  let rest = text;
  for (let i = 0; i < n; i++) {
    const at = rest.indexOf(sep);
    if (at < 0) break;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + sep.length);
  }
  parts.push(rest);
  return parts;
}

/** Entries by id. */
export class InboundDirectory {
  readonly #byId = new Map<string, InboundEntry>();

  constructor(readonly all: readonly InboundEntry[]) {
    for (const e of all) this.#byId.set(e.id, e);
  }

  find(id: string): InboundEntry | undefined {
    return this.#byId.get(id);
  }

  get isEmpty(): boolean {
    return this.all.length === 0;
  }
}
