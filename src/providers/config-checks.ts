/**
 * The configuration checks every provider shares (its own live in src/providers/<name>/config.ts). Pure: no
 * I/O, and no problem text ever contains the URL or the credential.
 */
import { z } from 'zod';
import type { ConfigSpec, EntryParts } from '../connectors/spec';
import { ratePerMin } from './option-schemas';

/** Options every provider accepts here (besides min_severity): the pacing rate. */
const PACING_KEYS = ['rate_per_min'] as const;

export const requireCredential = (parts: EntryParts, what: string): string[] =>
  parts.credential.trim().length === 0 ? [`the credential (${what}) is empty`] : [];

export const noWhitespace = (parts: EntryParts): string[] =>
  /\s/.test(parts.credential) ? ['the credential contains whitespace'] : [];

export const path = (parts: EntryParts) => parts.url.pathname.replace(/\/+$/, '');

/** The pacing options every provider accepts, typed. */
const pacing = z.object({ rate_per_min: ratePerMin }).transform((o) => (o.rate_per_min === undefined ? {} : { ratePerMin: o.rate_per_min }));

/** What a provider folder declares: its option keys, its entry checks, and the zod schema typing its own options. */
export interface ProviderConfig<O> {
  optionKeys: readonly string[];
  check: ConfigSpec['check'];
  /** The raw option strings (every declared key, and the common ones) → the provider's typed options. */
  schema: z.ZodType<O>;
}

/** A provider's configuration spec: its keys and the shared pacing key; its checks; the shared options schema and its own. */
export const configSpec = <O>(s: ProviderConfig<O>): ConfigSpec<O> => ({
  optionKeys: [...s.optionKeys, ...PACING_KEYS],
  check: (parts) => s.check(parts),
  schema: z.intersection(pacing, s.schema.transform((settings) => ({ settings }))),
});
