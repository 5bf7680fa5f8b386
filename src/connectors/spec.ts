import type { Provider, Severity } from '../shared/contract';

/** What a connector entry looks like once its URL options are split off. Values only; no I/O. */
export interface EntryParts {
  url: URL;
  credential: string;
  options: Record<string, string>;
}

/**
 * What each provider declares about its configuration. `optionKeys` are the URL query keys that are our
 * options (stripped from the URL); every other query parameter stays (Teams Workflows URLs carry their
 * signature in the query). `check` returns problems in words that never contain the URL or credential.
 */
export interface ProviderSpec {
  provider: Provider;
  label: string;
  /** pages (PagerDuty, Opsgenie) can be acknowledged; chat posts have no inbound. */
  kind: 'pager' | 'chat' | 'ticket';
  optionKeys: readonly string[];
  check(parts: EntryParts): string[];
}

/** Options every provider accepts. */
export const COMMON_OPTION_KEYS = ['min_severity'] as const;

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2, critical: 3 };
