import type { z } from 'zod';
import type { Severity } from '../shared/contract';

/** What a connector entry looks like once its URL options are split off. Values only; no I/O. */
export interface EntryParts {
  url: URL;
  credential: string;
  options: Record<string, string>;
}

/**
 * A connector entry's options once typed: the shared pacing rate, and the provider's own options (`settings`, what
 * its options schema made of the raw strings). Parsed once, when the configuration loads.
 */
export interface TypedOptions<O = unknown> {
  /** `rate_per_min`, a whole number within the pacing bounds; absent: the provider's default. */
  ratePerMin?: number;
  settings: O;
}

/**
 * What each provider declares about its configuration (src/providers/<name>/config.ts). `optionKeys` are the URL
 * query keys that are our options (stripped from the URL); every other query parameter stays (Teams Workflows
 * URLs carry their signature in the query). `check` judges what is not an option value (the URL's path, the
 * credential's form, an option that needs a particular URL); `schema` (zod) turns the raw option strings into the
 * typed options, once at load, and refuses a bad value with a message naming its key. Neither ever puts the URL or
 * the credential in a message.
 */
export interface ConfigSpec<O = unknown> {
  optionKeys: readonly string[];
  check(parts: EntryParts): string[];
  schema: z.ZodType<TypedOptions<O>>;
}

/** Options every provider accepts. */
export const COMMON_OPTION_KEYS = ['min_severity'] as const;

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2, critical: 3 };
