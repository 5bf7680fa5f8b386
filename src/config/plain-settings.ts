/**
 * Rules for the plain (non-list) settings of loadConfig: durations with a range, whole numbers, and plain text.
 * Every refusal is a sentence that names the setting and its rule, never the value (docs/configuration.md). Pure.
 */
import { z } from 'zod';
import { parseDuration } from '../shared/duration';

/**
 * Node's timers hold at most 2^31 - 1 ms (about 24.8 days): a longer setTimeout fires after 1 ms, and
 * AbortSignal.timeout past 2^32 - 1 ms throws. No duration setting may reach it.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DurationRule {
  /** Smallest accepted duration, ms. */
  min: number;
  /** Largest accepted duration, ms; below MAX_TIMER_MS. */
  max: number;
  /** `0s` (written as zero: `0s`, `0ms`, `0m`) also accepted, meaning off. */
  off?: boolean;
}

/** 250 → `250ms`, 60000 → `60s`, 600000 → `10m`, 86400000 → `24h`: how a bound is written in a message. */
function written(ms: number): string {
  if (ms > 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms > 0 && ms % 60_000 === 0 && ms > 60_000) return `${ms / 60_000}m`;
  if (ms > 0 && ms % 1_000 === 0) return `${ms / 1_000}s`;
  return ms === 0 ? '0s' : `${ms}ms`;
}

function durationRuleText(setting: string, rule: DurationRule): string {
  const range = `a duration from ${written(rule.min)} to ${written(rule.max)}`;
  return `${setting} must be ${rule.off ? `0s (off) or ${range}` : range}, written like 500ms, 30s, 5m or 2h`;
}

/** The duration in ms when `text` is one and within the rule; undefined otherwise. */
function durationWithin(text: string, rule: DurationRule): number | undefined {
  const ms = parseDuration(text);
  if (ms === undefined) return undefined;
  // Zero only as written (`0s`): `0.4ms` rounds to 0 but is not a way of saying off.
  if (Number.parseFloat(text.trim()) === 0) return rule.off || rule.min === 0 ? 0 : undefined;
  return ms >= rule.min && ms <= rule.max && ms <= MAX_TIMER_MS ? ms : undefined;
}

/** A duration setting: `fallback` when unset; anything else must be within the rule (empty is refused). */
export function durationSetting(setting: string, fallback: string, rule: DurationRule) {
  return z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const ms = durationWithin(v, rule);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: durationRuleText(setting, rule) });
        return z.NEVER;
      }
      return ms;
    });
}

/** Digits only, surrounding whitespace ignored: no sign, no `0x`, no exponent, no fraction, no empty value. */
function wholeNumberWithin(text: string, min: number, max: number): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

/** A whole-number setting: `fallback` when unset; `note` is appended to the rule in the message. */
export function wholeNumberSetting(setting: string, fallback: number, min: number, max: number, note = '') {
  return z
    .string()
    .default(String(fallback))
    .transform((v, ctx) => {
      const n = wholeNumberWithin(v, min, max);
      if (n === undefined) {
        ctx.addIssue({ code: 'custom', message: `${setting} must be a whole number from ${min} to ${max}${note}` });
        return z.NEVER;
      }
      return n;
    });
}

/** A whole-number setting that is off when unset or empty (compose files pass `${VAR:-}`). */
export function optionalWholeNumberSetting(setting: string, min: number, max: number, note = '') {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const n = wholeNumberWithin(v, min, max);
      if (n === undefined) {
        ctx.addIssue({ code: 'custom', message: `${setting} must be a whole number from ${min} to ${max}${note}` });
        return z.NEVER;
      }
      return n;
    });
}

/**
 * Plain text settings (a task queue name, a listen address): not blank, and no whitespace at either end — the
 * value is taken as written, so `probectl-notify ` would be another task queue than the one everything else
 * uses, and ` 0.0.0.0` no address at all. Returns the problem, or undefined.
 */
export function plainTextProblem(setting: string, value: string): string | undefined {
  if (value.trim() === '') return `${setting} must not be empty or blank`;
  if (value.trim() !== value) return `${setting} must not start or end with whitespace`;
  return undefined;
}
