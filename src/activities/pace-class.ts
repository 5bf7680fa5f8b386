import { findProvider } from '../providers/registry';
import type { Severity } from '../shared/contract';

/**
 * Storm priority (docs/providers.md, "Rate pacing"): within one connector key's budget a waiting call of a
 * more urgent class takes the next token before every less urgent one. The pacer drops nothing itself, but a call
 * deferred past its activity's schedule-to-close time fails: in a sustained storm of a more urgent class, less
 * urgent calls of the key can go unserved.
 *
 *   0 page_critical  a page (PagerDuty, Opsgenie) opened, acknowledged or resolved for a critical incident
 *   1 page           any other page, and every ticket (ServiceNow, Jira) create or close
 *   2 chat           Slack and Teams posts (open, acknowledge and resolve messages)
 *   3 reconcile      housekeeping reads (the reconciliation's status read-back)
 *
 * The class is derived in the worker from what the activity already knows (which activity runs, the connector's
 * provider, the incident's severity in its input), so no workflow input changes and recorded histories replay.
 */
export const PACE_CLASSES = ['page_critical', 'page', 'chat', 'reconcile'] as const;
export type PaceClassName = (typeof PACE_CLASSES)[number];
/** 0 is the most urgent. */
export type PaceClass = 0 | 1 | 2 | 3;
export const LEAST_URGENT: PaceClass = 3;

/** What a paced call does: the activity (or follow-up) that takes the token. */
export type PaceOperation = 'open' | 'acknowledge' | 'resolve' | 'reconcile';

/** By the provider's kind (its folder's spec): pager, chat or ticket. */
export function paceClass(provider: string, operation: PaceOperation, severity: Severity | undefined): PaceClass {
  if (operation === 'reconcile') return 3;
  const kind = findProvider(provider)?.spec.kind;
  if (kind === 'chat') return 2;
  if (kind === 'pager' && severity === 'critical') return 0;
  return 1;
}

/** The metric label of a class. */
export function paceClassName(c: PaceClass): PaceClassName {
  return PACE_CLASSES[c];
}
