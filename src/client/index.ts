/**
 * Typed client for probectl (TypeScript callers). Every call goes through the documented contract
 * (docs/workflow-contract.md), so a Go client that follows it behaves the same.
 */
import {
  Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type WorkflowHandle,
} from '@temporalio/client';
import type {
  AcknowledgeSignal, CorrelateSignal, Incident, IncidentResolution, IncidentStateView, ResolveSignal,
} from '../shared/contract';
import { incidentWorkflowId } from '../shared/ids';
import { incidentProblems } from '../shared/validate';
import { WORKFLOW_TYPE, acknowledgeSignal, correlateSignal, resolveSignal, stateQuery } from '../workflows/messages';

/** The memo key that fixes an incident's tenant at start; the API checks it before any signal or query. */
export const TENANT_MEMO_KEY = 'tenantId';

export class InvalidIncidentError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid incident: ${problems.join('; ')}`);
    this.name = 'InvalidIncidentError';
  }
}

/** The incident id exists under another tenant. */
export class TenantConflictError extends Error {
  constructor() {
    super('the incident id belongs to another tenant');
    this.name = 'TenantConflictError';
  }
}

export type OpenOutcome =
  | { outcome: 'started' | 'running'; workflowId: string; runId: string }
  | { outcome: 'closed'; workflowId: string; status: string };

export interface IncidentClientOptions {
  client: Client;
  taskQueue: string;
}

export class IncidentClient {
  constructor(private readonly opts: IncidentClientOptions) {}

  private handle(incidentId: string): WorkflowHandle {
    // No runId: always the latest run, also after continue-as-new.
    return this.opts.client.workflow.getHandle(incidentWorkflowId(incidentId));
  }

  /** The tenant an incident's workflow was started for; undefined when no workflow exists. */
  async tenantOf(incidentId: string): Promise<{ tenantId: string | undefined; status: string } | undefined> {
    try {
      const d = await this.handle(incidentId).describe();
      const tenantId = d.memo?.[TENANT_MEMO_KEY];
      return { tenantId: typeof tenantId === 'string' ? tenantId : undefined, status: d.status.name };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * Open idempotently: one run per incident id (USE_EXISTING while it runs; a completed id is refused
   * by ALLOW_DUPLICATE_FAILED_ONLY). An id that belongs to another tenant is a TenantConflictError, and
   * nothing is started for the caller.
   */
  async openIncident(incident: Incident): Promise<OpenOutcome> {
    const problems = incidentProblems(incident);
    if (problems.length > 0) throw new InvalidIncidentError(problems);
    const workflowId = incidentWorkflowId(incident.id);
    const before = await this.tenantOf(incident.id);
    if (before && before.tenantId !== incident.tenantId) throw new TenantConflictError();
    try {
      const handle = await this.opts.client.workflow.start(WORKFLOW_TYPE, {
        workflowId,
        taskQueue: this.opts.taskQueue,
        args: [{ incident }],
        memo: { [TENANT_MEMO_KEY]: incident.tenantId },
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        staticSummary: `${incident.severity}: ${incident.title}`.slice(0, 190),
        staticDetails: `tenant ${incident.tenantId} · severity ${incident.severity}`,
      });
      // USE_EXISTING may have handed back a run another caller started a moment ago: check whose it is.
      const after = await this.tenantOf(incident.id);
      if (after && after.tenantId !== incident.tenantId) throw new TenantConflictError();
      const runId = handle.firstExecutionRunId;
      return { outcome: before?.status === 'RUNNING' ? 'running' : 'started', workflowId, runId };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const closed = await this.tenantOf(incident.id);
        if (closed && closed.tenantId !== incident.tenantId) throw new TenantConflictError();
        return { outcome: 'closed', workflowId, status: closed?.status ?? 'COMPLETED' };
      }
      throw err;
    }
  }

  async correlate(incidentId: string, signal: CorrelateSignal): Promise<void> {
    await this.handle(incidentId).signal(correlateSignal, signal);
  }

  async acknowledge(incidentId: string, signal: AcknowledgeSignal): Promise<void> {
    await this.handle(incidentId).signal(acknowledgeSignal, signal);
  }

  async resolve(incidentId: string, signal: ResolveSignal): Promise<void> {
    await this.handle(incidentId).signal(resolveSignal, signal);
  }

  async getIncident(incidentId: string): Promise<IncidentStateView> {
    return this.handle(incidentId).query(stateQuery);
  }

  async result(incidentId: string): Promise<IncidentResolution> {
    return this.handle(incidentId).result() as Promise<IncidentResolution>;
  }
}
