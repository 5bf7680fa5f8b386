/**
 * A provider call records its own outcome (docs/workflow-contract.md, "Who records what"), after the provider
 * answered: the page is out before Postgres is touched, and a Postgres that is down or slow never holds a page
 * back (a slow or failing call's early write of what it carries runs beside the call, never before it:
 * carry-owed.ts). A failed write is reported (`recorded: false`) and the workflow writes the same keyed rows later; after a
 * failure the recorder stops trying for a short cool-down, so an outage does not add a connect timeout to every
 * call.
 */
import type { MirrorStore, RecordBatch } from '../db/mirror-store';

export interface RecordResult {
  recorded: boolean;
  followUpsRecorded: boolean;
}

const NOT_RECORDED: RecordResult = { recorded: false, followUpsRecorded: false };

export class OutcomeRecorder {
  #skipUntil = 0;

  constructor(
    private readonly mirror: Pick<MirrorStore, 'record'>,
    private readonly opts: { coolDownMs?: number; now?: () => number; onError?: (err: unknown) => void } = {},
  ) {}

  async record(batch: RecordBatch): Promise<RecordResult> {
    const now = this.opts.now ?? Date.now;
    if (now() < this.#skipUntil) return NOT_RECORDED;
    try {
      const { followUpsRecorded } = await this.mirror.record(batch);
      return { recorded: true, followUpsRecorded };
    } catch (err) {
      this.#skipUntil = now() + (this.opts.coolDownMs ?? 5_000);
      this.opts.onError?.(err);
      return NOT_RECORDED;
    }
  }
}
