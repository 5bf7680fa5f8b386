/**
 * What a provider declares about itself as pure data: no import, no I/O, nothing Node-only. Workflow code may
 * read these types (src/workflows/** is bundled into the Temporal sandbox); the values reach a workflow only
 * carried on its connector snapshot (`ConnectorRef.caps`), never from this tree's registry.
 */
export type ProviderKind = 'pager' | 'chat' | 'ticket';

/**
 * What the workflow needs to know about a connector's provider, carried on the connector snapshot so a run keeps
 * the answers it started with (src/workflows/capabilities.ts). `kind` decides: pager = acknowledged, resolved a
 * second time, created idempotently (re-issued at once after a hand-over), opened within 30 minutes; ticket =
 * looked up before a create and closed in passes, opened within 12 hours; chat = a post, no inbound. `readable`:
 * the credential can read the object back (reconciliation). `name` and `open` are the UI's words.
 */
export interface ProviderCaps {
  kind: ProviderKind;
  readable: boolean;
  /** How the Temporal UI names the provider ("Opsgenie"). */
  name: string;
  /** What an open does, for the UI's activity summary; `{key}` stands for the incident key. */
  open: string;
}

export interface ProviderSpec<N extends string = string> {
  /** The provider name: the `provider` field of a connector entry, of the workflow contract and of metrics. */
  name: N;
  /** How configuration problems and the CLI name it ("Opsgenie / JSM"). */
  label: string;
  /** How the Temporal UI names it ("Opsgenie"). */
  uiName: string;
  kind: ProviderKind;
  /** The credential can read the object back (reconciliation, per incident and per connector). */
  readable: boolean;
  /** What an open does, for the UI's activity summary; `{key}` stands for the incident key. */
  openVerb: string;
  /** Calls per minute per pacing key when the entry sets no `rate_per_min`. */
  defaultRatePerMin: number;
  /**
   * The credential is a free-form password or token (it may contain "|"): a named entry must use the JSON form,
   * which no character can split.
   */
  freeFormCredential: boolean;
}

/** What a connector snapshot carries about its provider. */
export const capsOf = (spec: ProviderSpec): ProviderCaps => ({ kind: spec.kind, readable: spec.readable, name: spec.uiName, open: spec.openVerb });
