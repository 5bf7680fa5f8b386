import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SHIPPED_INBOUND_PROVIDERS, hasInbound, isProvider, providerNames, type ShippedInboundProvider } from '../providers/registry';
import { TENANT_ID_PATTERN } from '../shared/ids';
import { ConfigError } from './errors';
import { entryLabel, mayQuote, readList, validateEntries, withHint, type ListForm } from './list-setting';
import { Secret } from './secret';

export const INBOUND_SETTING = 'PROBECTL_NOTIFY_INBOUND';
export const INBOUND_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const MIN_INBOUND_SECRET_LENGTH = 16;
/** Old and new secret while rotating. */
export const MAX_SECRETS_PER_ENTRY = 2;

/** Providers that can deliver status back (pagers and ticketing). Chat posts have no inbound. */
export type InboundProvider = ShippedInboundProvider;
export const INBOUND_PROVIDERS: readonly InboundProvider[] = SHIPPED_INBOUND_PROVIDERS;

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
  /**
   * Only the timestamped X-Probectl-Signature is accepted (`"require_timestamp": true` in the JSON form): a
   * token, a body-only signature and the providers' own (untimestamped) signatures are refused, so a captured
   * delivery is worthless after the replay window.
   */
  requireTimestamp: boolean;
}

const secretRule = `the secret must be at least ${MIN_INBOUND_SECRET_LENGTH} printable ASCII characters without whitespace`;
/**
 * Printable ASCII, no whitespace: the secret is sent as a header value (X-Probectl-Token, which Node reads as latin1,
 * so any other character could never match) and is an HMAC key (where a NUL at its end, or two lone surrogates that
 * encode to the same bytes, would make two different strings the same key).
 */
const SECRET_CHARACTERS = /^[\x21-\x7e]+$/;

/**
 * The HMAC-SHA256 key a secret stands for, as HMAC uses it: a key longer than the hash's 64-byte block is replaced by
 * its digest, and a shorter one is padded with zero bytes — so two secrets with the same padded key sign alike.
 */
export function hmacKeyOf(secret: string): string {
  const bytes = Buffer.from(secret, 'utf8');
  const key = bytes.length > 64 ? createHash('sha256').update(bytes).digest() : bytes;
  let end = key.length;
  while (end > 0 && key[end - 1] === 0) end--;
  return key.subarray(0, end).toString('hex');
}

/** The id as an error may quote it: only one that cannot be a secret written into the id's place (shorter than one). */
const quotableId = (id: unknown): string | undefined => (typeof id === 'string' && id.length < MIN_INBOUND_SECRET_LENGTH ? id : undefined);

/** One entry's fields; `quote` says whether the provider value may appear in a message (see list-setting.ts). */
function entrySchema(quote: boolean) {
  return z.strictObject({
    id: z.string().regex(INBOUND_ID_PATTERN, `the id must match ${INBOUND_ID_PATTERN.source}`),
    tenant: z.string().regex(TENANT_ID_PATTERN, `the tenant must match ${TENANT_ID_PATTERN.source}`),
    provider: z.string().transform((p, ctx) => {
      const v = p.toLowerCase();
      if (hasInbound(v)) return v as InboundProvider;
      const expected = `expected one of ${providerNames().filter(hasInbound).join(', ')}`;
      let message: string;
      if (isProvider(v)) message = `${quote ? `${v} is` : 'the provider is'} a chat provider and has no inbound; ${expected}`;
      else if (!quote) message = `unknown provider; ${expected}`;
      else message = `unknown provider ${/^[A-Za-z]{1,20}$/.test(p) ? JSON.stringify(p) : '(not shown: it does not look like a provider name)'}; ${expected}`;
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }),
    secret: z.string().min(MIN_INBOUND_SECRET_LENGTH, secretRule).regex(SECRET_CHARACTERS, secretRule),
    require_timestamp: z.boolean().optional(),
  });
}
const QUOTED = entrySchema(true);
const UNQUOTED = entrySchema(false);

/** `id:tenant:provider:secret`, split on the first three colons (the secret may contain colons). */
function fields(text: string): Record<string, string> | string {
  const parts = splitFirst(text, ':', 3);
  if (parts.length !== 4) return 'expected id:tenant:provider:secret (the secret may contain colons)';
  const [id, tenant, provider, secret] = parts as [string, string, string, string];
  return { id, tenant, provider, secret };
}

/**
 * Parse `id:tenant:provider:secret` entries (commas or newlines between them), or the JSON form: an array of
 * `{"id","tenant","provider","secret","require_timestamp"?}`. Unset or blank: no entry, and every inbound
 * delivery is refused. Every problem names the entry by position (and, where it cannot be a spilled secret,
 * its id), never its secret.
 */
export function parseInbound(raw: string | undefined): InboundEntry[] {
  const problems: string[] = [];
  const { form, entries: read } = readList(raw, fields, problems);
  const valid = validateEntries(read, (e) => (mayQuote(e) ? QUOTED : UNQUOTED), (v) => [['id', quotableId(v.id)]], problems);
  const entries: InboundEntry[] = [];
  const seenIds = new Map<string, number>();
  // Which tenant (and entry) first listed each secret: the {id} of the path is no secret, so a secret shared by
  // two tenants' entries would let either tenant's holder post to the other's entry.
  const secretOwners = new Map<string, { tenantId: string; position: number }>();
  for (const e of valid) {
    const { id, tenant: tenantId, provider, secret } = e.value;
    const here = entryLabel(e, [['id', quotableId(id)]]);
    const clash = seenIds.get(id);
    const first = clash === undefined ? undefined : entries.find((x) => x.id === id)!;
    if (first && (first.tenantId !== tenantId || first.provider !== provider)) {
      problems.push(`${here}: the id is already used by entry #${clash} for another tenant or provider`);
      continue;
    }
    // By the HMAC key it stands for: two spellings of one key would sign alike.
    const key = hmacKeyOf(secret);
    const owner = secretOwners.get(key);
    if (owner && owner.tenantId !== tenantId) {
      problems.push(`${here}: its secret is already used by entry #${owner.position} of another tenant; every tenant needs its own secrets`);
      continue;
    }
    if (!owner) secretOwners.set(key, { tenantId, position: e.position });
    if (first) {
      // The same id twice, for the same tenant and provider, is a secret rotation: both secrets are accepted
      // until the old entry is removed.
      if (first.secrets.length >= MAX_SECRETS_PER_ENTRY) {
        problems.push(`${here}: an entry may carry at most ${MAX_SECRETS_PER_ENTRY} secrets at once (old and new, while rotating)`);
      } else if (first.secrets.some((s) => hmacKeyOf(s.reveal()) === key)) {
        problems.push(`${here}: the same secret is listed twice for this id`);
      } else if ((e.value.require_timestamp ?? false) !== first.requireTimestamp) {
        problems.push(`${here}: require_timestamp differs from entry #${clash} of the same id`);
      } else {
        first.secrets.push(new Secret(secret));
      }
      continue;
    }
    seenIds.set(id, e.position);
    entries.push({ position: e.position, id, tenantId, provider, secrets: [new Secret(secret)], requireTimestamp: e.value.require_timestamp ?? false });
  }
  if (problems.length > 0) throw new ConfigError(INBOUND_SETTING, withHint(problems, form as ListForm));
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
