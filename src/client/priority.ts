import type { Priority } from '@temporalio/common';
import type { Severity } from '../shared/contract';

/**
 * The Temporal task-queue priority an incident's run starts with (docs/operations.md, "Storms"): its workflow
 * tasks and activities (which inherit it) are dispatched before those of less severe incidents whenever the task
 * queue is backlogged — in a storm, a critical incident's first workflow task does not wait behind every warning
 * that arrived first. 1 is the most urgent; 3 is Temporal's default (what runs started without a priority have).
 * A server without the priority matcher (`matching.useNewMatcher`, off by default in 1.29) ignores it: first come,
 * first served, as before.
 */
const PRIORITY_KEY: Record<Severity, number> = { critical: 1, error: 2, warning: 3, info: 4 };

export function incidentPriority(severity: Severity): Priority {
  return { priorityKey: PRIORITY_KEY[severity] };
}
