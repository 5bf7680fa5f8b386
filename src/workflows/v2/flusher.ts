/**
 * Writes what the workflow owes Postgres and no provider call carries (its own decisions' entries and links, the
 * incident row, follow-ups) with one local activity: one marker event, no workflow task of its own. It never
 * blocks anything: a failed write (Postgres down) leaves the items owed and is tried again after a back-off;
 * follow-ups Postgres cannot take are carried out by the workflow itself.
 */
import { sleep } from '@temporalio/workflow';
import { recordingLocal } from '../activity-options';
import { confirm, payloadOf, release, takeFollowUps, unattached } from './records';
import { ownFollowUps, type IncidentState } from './state';
import type { Wake } from './wake';

const MAX_BACKOFF_MS = 60_000;

export class Flusher {
  #busy = false;
  #failures = 0;
  #ended = false;

  constructor(
    private readonly s: IncidentState,
    private readonly wake: Wake,
  ) {}

  get busy(): boolean {
    return this.#busy;
  }

  end(): void {
    this.#ended = true;
  }

  /** Write what no running call carries, unless a write (or its back-off) is under way. */
  flush(): void {
    const s = this.s;
    if (this.#busy) return;
    const items = unattached(s.outbox);
    if (items.length === 0) return;
    const carrier = `record:${s.nextId++}`;
    for (const i of items) i.carriers.push(carrier);
    this.#busy = true;
    void recordingLocal.recordIncident.executeWithOptions({ summary: summary(items.length) }, [{ incident: s.incident, payload: payloadOf(items) }])
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
}

function summary(n: number): string {
  return `mirror: record ${n} ${n === 1 ? 'item' : 'items'} of the workflow's own`;
}
