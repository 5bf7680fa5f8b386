/**
 * Writes what the workflow owes Postgres and no provider call carries (its own decisions' entries and links, the
 * incident row, follow-ups). It never blocks anything: a failed write (Postgres down) leaves the items owed and
 * is tried again after a back-off; follow-ups Postgres cannot take are carried out by the workflow itself.
 *
 * The write is an ordinary activity, never a local one. It is rare (what the workflow owes normally rides with
 * the provider calls it schedules), and a local activity's result is tied to the workflow task it ran in: one
 * slow enough to outlive the task (a Postgres that hangs) moves activation boundaries on replay, and a run of the
 * legacy path was seen failing replay exactly there after a worker restart. Entries a stream of signals feeds
 * (correlated, refused) are batched: written once STREAM_BATCH are owed or STREAM_DELAY_MS after the first one. One
 * write carries at most WRITE_BUDGET_BYTES (a pile owed after an outage goes in several writes, one after another).
 */
import { sleep } from '@temporalio/workflow';
import { recording } from '../activity-options';
import { encodedSize } from './bounds';
import { confirm, isStreamItem, payloadOf, release, takeFollowUps, unattached, type RecordItem } from './records';
import { ownFollowUps, type IncidentState } from './state';
import type { Wake } from './wake';

const MAX_BACKOFF_MS = 60_000;
/** Owed stream entries written at once. */
export const STREAM_BATCH = 100;
/** A lone stream entry waits at most this long for company. */
export const STREAM_DELAY_MS = 2_000;
/**
 * What one write may carry, the incident beside it included: the write's input is one payload, and the server fails
 * the workflow when a command's payload is over its limit (2 MiB). What is owed beyond it goes in the next write.
 */
export const WRITE_BUDGET_BYTES = 1_024 * 1024;
/** A write carries at least this much besides the incident, however large the incident (at most ~0.85 MiB). */
const MIN_WRITE_BYTES = 256 * 1024;

export class Flusher {
  #busy = false;
  #failures = 0;
  #ended = false;
  #delayRunning = false;
  #delayDone = false;
  readonly #budget: number;

  constructor(
    private readonly s: IncidentState,
    private readonly wake: Wake,
  ) {
    this.#budget = Math.max(WRITE_BUDGET_BYTES - encodedSize(s.incident), MIN_WRITE_BYTES);
  }

  get busy(): boolean {
    return this.#busy;
  }

  end(): void {
    this.#ended = true;
  }

  /**
   * Write what no running call carries, unless a write (or its back-off) is under way. `final`: the run is about
   * to finish, so stream entries do not wait for a batch.
   */
  flush(final = false): void {
    const s = this.s;
    if (this.#busy) return;
    const items = unattached(s.outbox);
    if (items.length === 0) return;
    const streamed = items.filter(isStreamItem).length;
    const decisions = items.length - streamed;
    if (decisions === 0 && !final && streamed < STREAM_BATCH && !this.#delayDone) {
      this.delay();
      return;
    }
    this.#delayDone = false;
    const carrier = `record:${s.nextId++}`;
    const batch = upTo(items, this.#budget);
    for (const i of batch) i.carriers.push(carrier);
    this.#busy = true;
    void recording.recordIncident.executeWithOptions({ summary: summary(batch.length) }, [{ incident: s.incident, payload: payloadOf(batch) }])
      .then(
        async (r) => {
          if (this.#ended) return;
          this.#failures = 0;
          ownFollowUps(s, confirm(s.outbox, carrier, r.followUpsRecorded));
        },
        async () => {
          if (this.#ended) return;
          // Postgres cannot take the follow-ups now: the workflow carries them out itself (nothing else holds them).
          ownFollowUps(s, takeFollowUps(s.outbox, carrier));
          release(s.outbox, carrier);
          this.#failures += 1;
          await sleep(Math.min(1_000 * 2 ** this.#failures, MAX_BACKOFF_MS));
        },
      )
      .finally(() => {
        this.#busy = false;
        if (!this.#ended) this.wake.bump();
      });
  }

  /** One timer at a time for a lone batch of stream entries. */
  private delay(): void {
    if (this.#delayRunning) return;
    this.#delayRunning = true;
    void sleep(STREAM_DELAY_MS).then(() => {
      this.#delayRunning = false;
      if (this.#ended) return;
      this.#delayDone = true;
      this.wake.bump();
    });
  }
}

/** The oldest items whose encoded size fits `budget` (at least one, so a write always makes progress). */
function upTo(items: readonly RecordItem[], budget: number): RecordItem[] {
  let used = 0;
  let n = 0;
  while (n < items.length) {
    used += encodedSize(items[n]) + 1;
    if (n > 0 && used > budget) break;
    n += 1;
  }
  return items.slice(0, n);
}

function summary(n: number): string {
  return `mirror: record ${n} ${n === 1 ? 'item' : 'items'} of the workflow's own`;
}
