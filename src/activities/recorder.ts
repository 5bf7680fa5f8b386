/**
 * A provider call records its own outcome (docs/workflow-contract.md, "Who records what"), after the provider
 * answered: the page is out before Postgres is touched, and a Postgres that is down or slow never holds a page
 * back (a slow or failing call's early write of what it carries runs beside the call, never before it:
 * carry-owed.ts). A failed write is reported (`recorded: false`) and the workflow writes the same keyed rows later.
 * After an availability failure (the database unreachable, a connection lost, a timeout, SQLSTATE class 08, 53, 57
 * or 58) the recorder stops trying for a short cool-down, so an outage does not add a connect timeout to every call.
 * Any other failure — a data error (class 22, 23) of one batch — says nothing about the next batch, which may be
 * another tenant's: it is reported (onError, with its kind) and the next record is tried as usual.
 */
import type { MirrorStore, RecordBatch } from '../db/mirror-store';

export interface RecordResult {
  recorded: boolean;
  followUpsRecorded: boolean;
}

/** `unavailable`: the database could not be reached or answer; `refused`: it answered and refused this batch. */
export type RecordFailureKind = 'unavailable' | 'refused';

const NOT_RECORDED: RecordResult = { recorded: false, followUpsRecorded: false };

const AVAILABILITY_CLASSES = new Set(['08', '53', '57', '58']);

/**
 * Whether a failed write means the database is unavailable. A SQLSTATE (five characters) says it by its class;
 * an error without one comes from the driver or the network (ECONNREFUSED, a connection terminated, a timeout),
 * all of them availability failures.
 */
export function recordFailureKind(err: unknown): RecordFailureKind {
  const code = (err as { code?: unknown } | null)?.code;
  // SQLSTATE classes never start with E; errno codes (EPIPE, ECONNRESET) always do.
  if (typeof code === 'string' && /^[0-9A-DF-Z][0-9A-Z]{4}$/.test(code)) return AVAILABILITY_CLASSES.has(code.slice(0, 2)) ? 'unavailable' : 'refused';
  return 'unavailable';
}

export class OutcomeRecorder {
  #skipUntil = 0;

  constructor(
    private readonly mirror: Pick<MirrorStore, 'record'>,
    private readonly opts: { coolDownMs?: number; now?: () => number; onError?: (err: unknown, kind: RecordFailureKind) => void } = {},
  ) {}

  async record(batch: RecordBatch): Promise<RecordResult> {
    const now = this.opts.now ?? Date.now;
    if (now() < this.#skipUntil) return NOT_RECORDED;
    try {
      const { followUpsRecorded } = await this.mirror.record(batch);
      return { recorded: true, followUpsRecorded };
    } catch (err) {
      const kind = recordFailureKind(err);
      if (kind === 'unavailable') this.#skipUntil = now() + (this.opts.coolDownMs ?? 5_000);
      this.opts.onError?.(err, kind);
      return NOT_RECORDED;
    }
  }
}
