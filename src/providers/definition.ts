/**
 * One provider, as its folder declares it (src/providers/<name>/index.ts) and the registry lists it
 * (src/providers/registry.ts). Every table that varies by provider reads from here.
 */
import type { ZodType } from 'zod';
import type { HttpClient } from '../http/client';
import type { ConnectorConfig } from '../config/connectors';
import type { ConfigSpec } from '../connectors/spec';
import type { Parser } from './inbound-types';
import type { SignatureScheme } from './signature-match';
import type { ProviderSpec } from './spec';
import type { CallContext, ChangeListing, Connector } from './types';

/** One named check of `probectl-notify connectors check` beyond reachability. */
export interface LiveCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** A connector-wide listing of what changed since `since` (per-connector reconciliation, src/reconcile/). */
export type ChangeLister<O = unknown> = (ctx: CallContext<O>, since: string, maxPages: number, beforeRequest: () => Promise<void>, resume?: string) => Promise<ChangeListing>;

/**
 * How the OpenAPI document describes a provider's inbound side (`POST /ingest/itsm/{provider}/{id}`: built by
 * src/api/inbound/openapi.ts and src/api/openapi.ts from the registry; docs/openapi.json). Documentation only:
 * the route reads the raw body and `parse` decides; nothing here validates a delivery. Held to the provider's own
 * signature and delivery-id headers by test/unit/providers/inbound-docs.test.ts.
 */
export interface InboundDocs {
  /**
   * Its own payload, one member of the body union (after the portable contract): a zod schema with
   * `.meta({ id, title })`, `id` naming its component (`Inbound<Provider>`).
   */
  payload: ZodType;
  /**
   * Each header of its own that it reads, by its lower-case name — keyed by `signature.header` and
   * `deliveryHeader` rather than repeating them — with what it carries. The generic X-Probectl-* headers are
   * documented once, not here.
   */
  headers: Readonly<Record<string, string>>;
  /**
   * With `signature`: how the description of the X-Probectl-Signature security scheme names it, whose it is and
   * the header as the provider writes it (Jira Cloud's `X-Hub-Signature`).
   */
  signatureName?: string;
}

/** What a provider's status webhooks need (absent for chat providers: they have no inbound). */
export interface InboundSide {
  /** The provider's own payload (the portable contract is parsed before it). Pure. */
  parse: Parser;
  /** Its own signature header, besides X-Probectl-Signature. */
  signature?: SignatureScheme;
  /** The header carrying its delivery id (the body's own id is the fallback). Lower-case. */
  deliveryHeader?: string;
  /** What an administrator configures on the provider's side for one inbound entry (`inbound guide`). Pure text. */
  guide?: { text: (url: string) => string; canTimestamp: boolean };
  /** Its payload and headers as the OpenAPI document describes them (required: a new provider cannot leave them out). */
  docs: InboundDocs;
}

/**
 * `O`: the provider's typed options. `export const jira: InboundProviderDefinition<'jira', JiraOptions>` in a folder's index.ts makes
 * the compiler check that its options schema (config.schema) yields `O`. The registry holds every definition as
 * ProviderDefinition<string> (options unknown): the calls below are methods, whose parameters the compiler compares
 * both ways, so a definition typed for its own options fits there — and, for the same reason, the annotation alone does
 * not refuse a connector (or lister, or live check) declared for wider options than `O`: test/unit/providers/options-guards.test.ts holds each
 * of them to exactly its schema's output (or `unknown`, reading none; never `any`) at compile time. What makes the registry sound is that a connector's
 * `settings` are only ever made by its own provider's schema (src/config/connectors.ts, by the entry's provider).
 */
export interface ProviderDefinition<N extends string = string, O = unknown> {
  spec: ProviderSpec<N>;
  config: ConfigSpec<O>;
  connector: Connector<O>;
  /** Present for providers whose credential can list what changed (reconciliation). */
  listChanges?(ctx: CallContext<O>, since: string, maxPages: number, beforeRequest: () => Promise<void>, resume?: string): Promise<ChangeListing>;
  /** A check of the live endpoint with the credential, run after reachability by `connectors check`. */
  liveCheck?(http: HttpClient, c: ConnectorConfig<O>): Promise<LiveCheck>;
  inbound?: InboundSide;
  /**
   * What, beyond the URL and credential, names a connector's own rate budget (Slack's Web API: the channel, each with
   * its own limit). Part of the pace key (src/activities/pacing.ts); absent: ''. Changing it renames existing buckets.
   */
  paceScope?(settings: O): string;
}

/**
 * A provider that takes status webhooks. Each folder's index.ts annotates its definition with this or ProviderDefinition
 * (not `satisfies`): the registry derives the `Provider` type from these declared types, and an inferred one would
 * make that derivation circular whenever a connector's inferred types reach back to the contract.
 */
export type InboundProviderDefinition<N extends string = string, O = unknown> = ProviderDefinition<N, O> & { inbound: InboundSide };
