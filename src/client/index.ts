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
import { incidentPriority } from './priority';
import { incidentWorkflowId } from '../shared/ids';
import { CORRELATE_DETAIL_CHARS } from '../shared/records';
import { truncate } from '../shared/text';
import { incidentProblems } from '../shared/validate';
import { WORKFLOW_TYPE, acknowledgeSignal, correlateSignal, resolveSignal, stateQuery } from '../workflows/messages';
import { SEVERITY, STATUS, TENANT } from '../workflows/search-attributes';

/** Cut to at most `max` UTF-8 bytes on a character boundary (the UI summary is limited in bytes). */
function byteTruncate(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch + '…', 'utf8') > max) break;
    out += ch;
  }
  return `${out}…`;
}

const md = (v: string) => v.replace(/\s+/g, ' ').replace(/\|/g, '\\|');

/** The Temporal UI's one-line summary of an incident: severity, title, tenant. */
export function incidentSummary(incident: Incident): string {
  return byteTruncate(`[${incident.severity}] ${incident.title.replace(/\s+/g, ' ')} · tenant ${incident.tenantId}`, 200);
}

/** The Temporal UI's static details: what the incident is, as a markdown table. */
export function incidentDetails(incident: Incident): string {
  const rows: Array<[string, string]> = [
    ['incident', incident.id],
    ['tenant', incident.tenantId],
    ['severity', incident.severity],
    ['opened', incident.openedAt],
    ...(incident.source ? [['source', incident.source] as [string, string]] : []),
    ...(incident.url ? [['link', incident.url] as [string, string]] : []),
  ];
  return byteTruncate(
    [`**${md(incident.title)}**`, '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${md(v)} |`),
      ...(incident.summary ? ['', incident.summary] : [])].join('\n'),
    16_000,
  );
}

/** A Temporal call did not answer within its deadline (see IncidentClient.withDeadline). */
export class TemporalDeadlineError extends Error {
  constructor(ms: number) {
    super(`Temporal did not answer within ${ms} ms`);
    this.name = 'TemporalDeadlineError';
  }
}

const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/**
 * Did this failure come from not reaching Temporal (unavailable, deadline passed, cancelled) rather than from
 * Temporal refusing this particular call? The gRPC status code sits on the error or one of its causes.
 */
export function isTemporalUnreachable(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    if (e instanceof TemporalDeadlineError) return true;
    const code = (e as { code?: unknown }).code;
    if (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED || code === GRPC_CANCELLED) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

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
  /** `eagerlyStarted`: the server handed the first workflow task back with the start, to this process's worker. */
  | { outcome: 'started'; workflowId: string; runId: string; eagerlyStarted: boolean }
  | { outcome: 'running'; workflowId: string; runId: string }
  | { outcome: 'closed'; workflowId: string; status: string };

export interface IncidentClientOptions {
  client: Client;
  taskQueue: string;
  /**
   * The checked begin snapshot to pass in a new run's start input (`checkedBegin`, src/activities/begin.ts), read
   * before the start; undefined, a rejection (or no function) leaves it to the workflow's local activity.
   */
  checkedBegin?: (incident: Incident) => Promise<unknown>;
  /**
   * The client to start a run through with an eager start, when there is one now (a client on the connection of a
   * worker of this process, while it runs: src/runtime/api.ts); otherwise `client` starts it through matching.
   */
  eagerStarter?: () => Client | undefined;
  /** Told of every run this client started: whether its first workflow task was handed back with the start. */
  onStarted?: (eagerlyStarted: boolean) => void;
}

/**
 * Temporal answered an open with nothing this client can decide on: a start refused twice while the run cannot be
 * found, or a status it does not know. Nothing was started by this call; the API answers 503 (the code below is what
 * src/api/errors.ts reads as "a backing service is unavailable; retry later").
 */
export class OpenUndecidedError extends Error {
  readonly code = 'UNAVAILABLE';
}

/** An incident's current run as a describe shows it: the tenant its memo names (none without a memo), its status. */
export interface DescribedRun {
  tenantId: string | undefined;
  status: string;
  runId: string;
}

/** Statuses of a run that is still open (a paused run is open: it is answered "running", never started again). */
const STILL_OPEN = new Set(['RUNNING', 'PAUSED']);
/** Whether a run of this status still takes signals: running, or paused (its signals wait for it). */
export const isStillOpen = (status: string): boolean => STILL_OPEN.has(status);
/** Statuses ALLOW_DUPLICATE_FAILED_ONLY starts again after: the run ended without completing. */
const ENDED_WITHOUT_COMPLETING = new Set(['FAILED', 'TERMINATED', 'CANCELLED', 'TIMED_OUT']);

export class IncidentClient {
  constructor(private readonly opts: IncidentClientOptions) {}

  private handle(incidentId: string): WorkflowHandle {
    // No runId: always the latest run, also after continue-as-new.
    return this.opts.client.workflow.getHandle(incidentWorkflowId(incidentId));
  }

  /**
   * Run `fn` with a deadline of `ms` on every Temporal call it makes (the client otherwise retries an
   * unavailable server for a long time), optionally cancelled by `abort`. The caller is never held past the
   * deadline: the client's retry back-off may sleep past it before the call notices, so at the deadline this
   * rejects with TemporalDeadlineError, and what `fn` still does then is left to finish (and fail) on its own.
   */
  async withDeadline<T>(ms: number, fn: () => Promise<T>, abort?: AbortSignal): Promise<T> {
    const client = this.opts.client;
    const run = client.withDeadline(Date.now() + ms, () => (abort ? client.withAbortSignal(abort, fn) : fn()));
    let timer: NodeJS.Timeout | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TemporalDeadlineError(ms)), ms);
    });
    run.catch(() => undefined); // when the guard won, a late failure is nobody's
    try {
      return await Promise.race([run, guard]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Does the Temporal frontend answer within `ms`? */
  async reachable(ms: number): Promise<boolean> {
    try {
      await this.withDeadline(ms, async () => void (await this.opts.client.workflowService.getSystemInfo({})));
      return true;
    } catch {
      return false;
    }
  }

  /** The tenant an incident's workflow was started for; undefined when no workflow exists. */
  async tenantOf(incidentId: string): Promise<DescribedRun | undefined> {
    try {
      const d = await this.handle(incidentId).describe();
      const tenantId = d.memo?.[TENANT_MEMO_KEY];
      return { tenantId: typeof tenantId === 'string' ? tenantId : undefined, status: d.status.name, runId: d.runId };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * Open idempotently: one run per incident id (a second start while it runs is refused and answered
   * "running"; a completed id is answered "closed"; a failed, terminated, cancelled or timed-out run of the caller's
   * own tenant is started again, as ALLOW_DUPLICATE_FAILED_ONLY allows). An id that belongs to another tenant is a
   * TenantConflictError, and nothing is started for the caller.
   *
   * A new incident costs one Temporal call: the start, refused by the server (REJECT_DUPLICATE) whenever any run
   * of the id exists. Only then is the run described — its tenant, its status — and started again only when it is
   * the caller's and ended without completing. So a start never takes over an id whose last run is another
   * tenant's, whatever that run's status; the one gap is a run deleted by retention between the describe and the
   * start again, which Temporal cannot make a start conditional on.
   */
  async openIncident(incident: Incident): Promise<OpenOutcome> {
    // An id made only of dots (`.`, `..`) passes the workflow's pattern, but as a path segment a client's URL
    // normalisation removes it: such an incident could never be read or signalled over /v1. Refused for every caller
    // of this client (the API, the CLI), not in the workflow (its checks replay as recorded).
    const problems = [...incidentProblems(incident), ...(typeof incident.id === 'string' && /^\.+$/.test(incident.id) ? ['incident.id must not be made only of dots'] : [])];
    if (problems.length > 0) throw new InvalidIncidentError(problems);
    const checkedBegin = await this.opts.checkedBegin?.(incident).catch(() => undefined);
    const first = await this.tryStart(incident, checkedBegin, 'REJECT_DUPLICATE', false);
    if (first) return first;
    const before = await this.tenantOf(incident.id);
    let again: OpenOutcome | undefined;
    // Every start after a refusal says that a run of the id existed (`again`): it may have sent opens it never recorded.
    if (before === undefined) {
      // Refused, then gone (retention deleted it meanwhile): the id is free, but only to a start any run refuses.
      again = await this.tryStart(incident, checkedBegin, 'REJECT_DUPLICATE', true);
    } else if (before.tenantId === incident.tenantId && ENDED_WITHOUT_COMPLETING.has(before.status)) {
      // The caller's own run ended without completing. No snapshot: the new run reads the mirror itself, with any
      // link the ended run recorded after this client's read, and adopts it rather than opening it again.
      again = await this.tryStart(incident, undefined, 'ALLOW_DUPLICATE_FAILED_ONLY', true);
    } else {
      return this.answerExisting(incident, before);
    }
    // Refused again: a racing caller started a run meanwhile.
    return again ?? this.answerExisting(incident, await this.tenantOf(incident.id));
  }

  /**
   * The answer for a run that exists: another tenant's is a conflict; a running or paused one is "running", a
   * completed or ended one "closed"; none found, or a status this client cannot decide on, is OpenUndecidedError.
   */
  private answerExisting(incident: Incident, existing: DescribedRun | undefined): OpenOutcome {
    const workflowId = incidentWorkflowId(incident.id);
    // Refused twice and found neither time: never answered as if it were known.
    if (existing === undefined) throw new OpenUndecidedError(`Temporal refused to start ${workflowId} but does not find its run; retry the open`);
    if (existing.tenantId !== incident.tenantId) throw new TenantConflictError();
    if (STILL_OPEN.has(existing.status)) return { outcome: 'running', workflowId, runId: existing.runId };
    if (existing.status === 'COMPLETED' || ENDED_WITHOUT_COMPLETING.has(existing.status)) return { outcome: 'closed', workflowId, status: existing.status };
    // UNSPECIFIED, UNKNOWN, CONTINUED_AS_NEW (a describe names the chain's latest run) or a status of a later release.
    throw new OpenUndecidedError(`Temporal describes the run of ${workflowId} as ${existing.status.slice(0, 40)}; retry the open`);
  }

  /**
   * Start a run of `incident` under `reusePolicy`; undefined when the server refuses it because a run of the id exists.
   * `again`: a run of the id existed before this start (the start input's `again`, docs/workflow-contract.md "Links").
   */
  private async tryStart(incident: Incident, checkedBegin: unknown, reusePolicy: 'REJECT_DUPLICATE' | 'ALLOW_DUPLICATE_FAILED_ONLY', again: boolean): Promise<OpenOutcome | undefined> {
    const workflowId = incidentWorkflowId(incident.id);
    try {
      // Through the worker of this process while it runs, asking for an eager start; else through matching.
      const eager = this.opts.eagerStarter?.();
      const handle = await (eager ?? this.opts.client).workflow.start(WORKFLOW_TYPE, {
        ...(eager ? { requestEagerStart: true } : {}),
        workflowId,
        taskQueue: this.opts.taskQueue,
        // Started after a run of the id ended: that run may have sent opens it never recorded, whose refusals on a
        // retry the new run must not take for proof that nothing was made (docs/workflow-contract.md "Links").
        args: [{ incident, ...(checkedBegin !== undefined ? { checkedBegin } : {}), ...(again ? { again: true } : {}) }],
        memo: { [TENANT_MEMO_KEY]: incident.tenantId },
        // FAIL rather than the contract's USE_EXISTING: the same single run either way, but a racing caller
        // learns that it did not start it and is answered "running", not "started".
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: reusePolicy,
        // Providers and external refs are upserted by the workflow once it knows them.
        typedSearchAttributes: [
          { key: TENANT, value: incident.tenantId },
          { key: STATUS, value: 'open' },
          { key: SEVERITY, value: incident.severity },
        ],
        // Severity orders the run's tasks in a backlogged task queue (storms; src/client/priority.ts).
        priority: incidentPriority(incident.severity),
        staticSummary: incidentSummary(incident),
        staticDetails: incidentDetails(incident),
      });
      this.opts.onStarted?.(handle.eagerlyStarted);
      return { outcome: 'started', workflowId, runId: handle.firstExecutionRunId, eagerlyStarted: handle.eagerlyStarted };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return undefined;
      throw err;
    }
  }

  async correlate(incidentId: string, signal: CorrelateSignal): Promise<void> {
    await this.handle(incidentId).signal(correlateSignal, correlatePayload(signal));
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

/**
 * The workflow keeps at most CORRELATE_DETAIL_CHARS of `<signalId>: <summary>`, so a longer summary is cut before it
 * is signalled: the entry is the same, and each buffered signal stays small — the server fails a running workflow
 * task once its buffered events pass 2 MiB (history.maximumBufferedEventsSizeInBytes), which 4,096-character
 * summaries of escaped characters would reach after fewer than a hundred signals (docs/operations.md, "Signal bursts").
 */
export function correlatePayload<S extends CorrelateSignal>(signal: S): S {
  if (typeof signal.summary !== 'string' || Array.from(signal.summary).length <= CORRELATE_DETAIL_CHARS) return signal;
  return { ...signal, summary: truncate(signal.summary, CORRELATE_DETAIL_CHARS) };
}

