import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { toRef, type ConnectorDirectory, type ConnectorConfig } from '../config/connectors';
import type { Incident, Link, TimelineKind } from '../shared/contract';
import { NOT_FOUND_YET, outcomeKey, type FollowUpRecord, type KeyedEntry } from '../shared/records';
import { openedDetail } from '../workflows/ui';
import { FALLBACK_AFTER_MS } from '../workflows/v2/local-first-setting';
import type { HttpClient } from '../http/client';
import { TransportError } from '../http/client';
import { FailureType, permanent, retryable, scrubbedFailure, withAttempt } from '../http/failures';
import { holdOnRateLimit, type Pacer } from './pacing';
import { paceClass, type PaceOperation } from './pace-class';
import { scrub } from '../http/scrub';
import { connectorFor } from '../providers/registry';
import { secretsOf, type CallContext, type Connector, type RemoteState } from '../providers/types';
import type { AcknowledgeCall, ConnectorCall, OpenOutcome, Recorded, RecordSpec, ResolveCall, ResolveOutcome } from './contract';
import type { OutcomeRecorder, RecordResult } from './recorder';
import { carrying, owedBatch } from './carry-owed';

export interface ConnectorActivityDeps {
  connectors: ConnectorDirectory;
  http: HttpClient;
  /** Outbound pacing per connector key (the worker's, built with its store and metrics). */
  pacer: Pacer;
  /** Where calls of the state-machine workflow record their outcome; absent: they report `recorded: false`. */
  recorder?: OutcomeRecorder;
}

const HEARTBEAT_EVERY_MS = 1_000;
/**
 * The longest pacing wait of an open's local first attempt (src/workflows/v2/local-first.ts): its time limit is
 * short, and a refused take sends nothing, so the ordinary activity goes on safely at the pacer's turn.
 */
const LOCAL_PACE_WAIT_MS = 500;
/** Refused, a local attempt's ordinary open comes back at its turn, but never sooner than the workflow's shortest back-off. */
export const LOCAL_COME_BACK = Object.freeze({ comeBackMs: FALLBACK_AFTER_MS });


/**
 * Run `fn` while heartbeating, so a killed worker is noticed within the heartbeat timeout and a
 * cancellation (a resolve overtaking an open) reaches the request as an abort. A local activity (an open's local
 * first attempt) cannot heartbeat: its time limit bounds it, and a cancellation reaches it all the same.
 */
async function withHeartbeat<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  if (ctx.info.isLocal) return fn();
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/**
 * Transport errors are retryable; their message is already scrubbed. A request aborted because the activity was
 * cancelled ends the activity as cancelled (the workflow tells a cancelled open from a failed one).
 */
function rethrow(err: unknown): never {
  if (err instanceof TransportError) {
    if (err.code === 'ECANCELLED') throw new CancelledFailure('the request was aborted: the activity was cancelled');
    throw retryable(FailureType.Transport, err.message);
  }
  throw err;
}

/** What leaves the activity as a failure carries none of the connector's secrets (failures.ts scrubbedFailure). */
const scrubbedFor = (config: ConnectorConfig) => (err: unknown): never => {
  throw scrubbedFailure(err, secretsOf(config));
};

/** A link as a call's outcome leaves it. */
function linkOf(config: ConnectorConfig, status: Link['status'], patch: Partial<Link> = {}): Link {
  return { connectorId: config.id, provider: config.provider, status, ...patch, updatedAt: new Date().toISOString() };
}

function entryOf(spec: RecordSpec, kind: TimelineKind, connectorId: string, detail?: string): KeyedEntry {
  return { key: outcomeKey(spec.chain, spec.actionId), at: new Date().toISOString(), kind, connectorId, ...(detail ? { detail } : {}) };
}

/** Wait until `iso` (heartbeating; a cancellation ends the wait). */
async function notBefore(iso: string | undefined): Promise<void> {
  const wait = iso ? Date.parse(iso) - Date.now() : 0;
  if (wait > 0) await withHeartbeat(() => Context.current().sleep(wait));
}

export function createConnectorActivities(deps: ConnectorActivityDeps) {
  const { pacer } = deps;

  /**
   * Wait for the connector's rate token in the call's priority class (heartbeating; a cancellation ends the wait),
   * then call. A 429 with a delay holds the key's bucket until then, for every worker.
   */
  function paced<T>(ctx: CallContext, operation: PaceOperation, incident: Incident, fn: () => Promise<T>): Promise<T> {
    return withHeartbeat(async () => {
      const c = Context.current();
      await pacer.take(ctx.connector, { cls: paceClass(ctx.connector.provider, operation, incident.severity), signal: c.cancellationSignal, ...(c.info.isLocal ? { maxWaitMs: LOCAL_PACE_WAIT_MS, comeBackAtTurn: LOCAL_COME_BACK } : {}) });
      return holdOnRateLimit(pacer, ctx.connector, fn);
    });
  }

  /** Record a call's outcome with what the workflow owed (one transaction); no spec: the legacy workflow writes. */
  async function recordOutcome(
    call: ConnectorCall,
    config: ConnectorConfig,
    outcome: { link: Link; entry: KeyedEntry | undefined; status?: 'open' | 'acknowledged' | 'resolved'; followUps?: FollowUpRecord[] },
  ): Promise<RecordResult | undefined> {
    const spec = call.record;
    if (!spec) return undefined;
    if (!deps.recorder) return { recorded: false, followUpsRecorded: false };
    const owed = spec.owed;
    return deps.recorder.record({
      incident: call.incident,
      ...(owed?.incident ? { ...owed.incident, status: owed.incident.status } : { status: outcome.status ?? 'open' }),
      links: [...(owed?.links ?? []).filter((l) => l.connectorId !== config.id), outcome.link],
      entries: [...(owed?.entries ?? []), ...(outcome.entry ? [outcome.entry] : [])],
      followUps: [...(owed?.followUps ?? []), ...(outcome.followUps ?? [])],
    });
  }

  /**
   * What a call carries for the workflow, written on its own when the call is slow or fails (carry-owed.ts);
   * undefined when it carries nothing. Its own link too: an owed state older than the outcome never overwrites it.
   */
  function owedWrite(call: ConnectorCall): (() => Promise<unknown>) | undefined {
    const batch = owedBatch(call.incident, call.record?.owed);
    const recorder = deps.recorder;
    return batch && recorder ? () => recorder.record(batch) : undefined;
  }

  /**
   * The early write is not made for an attempt the workflow cancelled (it then writes what it owes itself); a local
   * first attempt cut by its time limit is not cancelled by the workflow, which goes on with the ordinary activity.
   */
  const carryOpts = {
    cancelled: (err: unknown) => {
      const ctx = Context.current();
      if (ctx.info.isLocal && ctx.cancellationDetails?.timedOut) return false;
      return err instanceof CancelledFailure || ctx.cancellationSignal.aborted;
    },
  };

  const reported = (r: RecordResult | undefined): Recorded => (r ? { recorded: r.recorded, followUpsRecorded: r.followUpsRecorded } : {});

  function resolveCall(call: ConnectorCall): { connector: Connector; ctx: CallContext; config: ConnectorConfig } {
    const config = deps.connectors.find(call.incident.tenantId, call.connectorId);
    if (!config) {
      throw permanent(FailureType.ConnectorRemoved, `connector ${call.connectorId} is no longer configured for this tenant`);
    }
    const connector = connectorFor(config.provider);
    if (!connector) throw permanent(FailureType.ProviderRejected, `no connector implementation for ${config.provider}`);
    const info = Context.current().info;
    const signal = Context.current().cancellationSignal;
    return { connector, ctx: { connector: config, http: deps.http, signal, attempt: info.attempt }, config };
  }

  return {
    async openConnector(call: ConnectorCall): Promise<OpenOutcome & Recorded> {
      const { connector, ctx, config } = resolveCall(call);
      const raw = await carrying(owedWrite(call), async () => {
        await notBefore(call.notBefore);
        return paced(ctx, 'open', call.incident, () => connector.open(ctx, call.incident)).catch(rethrow);
      }, carryOpts).catch((err: unknown) => {
        // A refusal names its attempt: the workflow leaves a link refused on its first attempt alone at the resolve. An
        // attempt 1 scheduled after the activity was (an operator's activity reset) is not a first try.
        const info = Context.current().info;
        throw scrubbedFailure(withAttempt(err, info.attempt === 1 && info.currentAttemptScheduledTimestampMs > info.scheduledTimestampMs ? 2 : ctx.attempt), secretsOf(config));
      });
      // References come from the provider's answer and go to history, the mirror and the API: a provider that
      // echoes a credential into one must not carry it there.
      const secrets = secretsOf(ctx.connector);
      const out: OpenOutcome = { ...raw, externalRef: scrub(raw.externalRef, secrets), ...(raw.externalUrl ? { externalUrl: scrub(raw.externalUrl, secrets) } : {}) };
      const rec = call.record && await recordOutcome(call, config, {
        link: linkOf(config, 'open', { externalRef: out.externalRef, ...(out.externalUrl ? { externalUrl: out.externalUrl } : {}) }),
        entry: entryOf(call.record, 'connector.opened', config.id, openedDetail(toRef(config), out.externalRef)),
      });
      return { ...out, ...reported(rec) };
    },

    async acknowledgeConnector(call: AcknowledgeCall): Promise<Recorded | void> {
      const { connector, ctx, config } = resolveCall(call);
      if (connector.acknowledge) {
        const ack = connector.acknowledge.bind(connector);
        await carrying(owedWrite(call), () =>
          paced(ctx, 'acknowledge', call.incident, () => ack(ctx, call.incident, { ...(call.externalRef ? { externalRef: call.externalRef } : {}) }, call.actor)).catch(rethrow), carryOpts)
          .catch(scrubbedFor(config));
      }
      if (!call.record) return;
      const rec = await recordOutcome(call, config, {
        link: linkOf(config, 'acknowledged', call.externalRef ? { externalRef: call.externalRef } : {}),
        entry: entryOf(call.record, 'connector.acknowledged', config.id),
        status: 'acknowledged',
      });
      return reported(rec);
    },

    async resolveConnector(call: ResolveCall): Promise<ResolveOutcome | void> {
      const { connector, ctx, config } = resolveCall(call);
      const result = await carrying(owedWrite(call), () => paced(ctx, 'resolve', call.incident, () =>
        connector.resolve(ctx, call.incident, { ...(call.externalRef ? { externalRef: call.externalRef } : {}) }, call.resolution),
      ).catch(rethrow), carryOpts).catch(scrubbedFor(config));
      const found = result ? result.found : true;
      if (!call.record) return { found };
      const now = Date.now();
      const ref = call.externalRef ? { externalRef: call.externalRef } : {};
      const followUps: FollowUpRecord[] = [
        ...(found && call.reResolve ? [{ key: call.reResolve.key, kind: 're-resolve' as const, dueAt: new Date(now + call.reResolve.afterMs).toISOString(), connectorId: config.id, ...ref, resolution: call.resolution }] : []),
        ...(!found && call.secondPass ? [{ key: call.secondPass.key, kind: 'ticket-close' as const, dueAt: new Date(now + call.secondPass.afterMs).toISOString(), connectorId: config.id, resolution: call.resolution, pass: 2 }] : []),
      ];
      const rec = await recordOutcome(call, config, found
        ? { link: linkOf(config, 'resolved', ref), entry: entryOf(call.record, 'connector.resolved', config.id), status: 'resolved', followUps }
        : { link: linkOf(config, 'pending'), entry: entryOf(call.record, 'connector.resolved', config.id, NOT_FOUND_YET), status: 'resolved', followUps });
      return { ...reported(rec), found };
    },

    /** Reconciliation: read what the connector opened; `unsupported` where the provider or credential cannot read. */
    async checkConnector(call: ConnectorCall): Promise<RemoteState | 'unsupported'> {
      const { connector, ctx, config } = resolveCall(call);
      if (!connector.status) return 'unsupported';
      const status = connector.status.bind(connector);
      return paced(ctx, 'reconcile', call.incident, () => status(ctx, call.incident, { ...(call.externalRef ? { externalRef: call.externalRef } : {}) }))
        .catch(rethrow).catch(scrubbedFor(config));
    },
  };
}
