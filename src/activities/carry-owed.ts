/**
 * A provider call carries what the workflow owed Postgres when it was scheduled (its decisions' entries, link
 * states, the incident row, follow-ups such as probectl's callback) and normally writes it with its own outcome,
 * in one transaction. A call that does not answer promptly must not hold those records: an open retrying against
 * 503s for hours, or a slow provider, would otherwise keep an acknowledgement's callback and timeline entry out of
 * Postgres for as long (the workflow counts them as carried and does not write them itself).
 *
 * So the carried records are also written on their own as soon as the call has run for OWED_GRACE_MS without an
 * answer, or when an attempt fails (not when it was cancelled: the workflow then writes them itself). At most once
 * per attempt; a quick answer writes nothing extra. The write runs beside the call and never delays or fails it:
 * nothing waits for it, and its errors are swallowed (the recorder already reports them and cools down). Every
 * record is keyed or monotonic (links by their `updatedAt`), so it may land before or after the outcome write.
 */
import type { Incident } from '../shared/contract';
import type { RecordPayload } from '../shared/records';
import type { RecordBatch } from '../db/mirror-store';

/** How long a call may run before what it carries is written without it. */
export const OWED_GRACE_MS = 2_000;

/**
 * Run `work`; start the write of the carried records (`write`, absent when nothing is carried) once `graceMs` pass
 * without an answer, or when `work` fails with an error `cancelled` does not call a cancellation. Answers what `work`
 * answers, when it answers.
 */
export async function carrying<T>(
  write: (() => Promise<unknown>) | undefined,
  work: () => Promise<T>,
  opts: { graceMs?: number; cancelled?: (err: unknown) => boolean } = {},
): Promise<T> {
  if (!write) return work();
  let started = false;
  const writeOnce = (): void => {
    if (started) return;
    started = true;
    void Promise.resolve().then(write).catch(() => undefined);
  };
  const timer = setTimeout(writeOnce, opts.graceMs ?? OWED_GRACE_MS);
  try {
    return await work();
  } catch (err) {
    if (!opts.cancelled?.(err)) writeOnce();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** What a call carries, as a write of its own (the incident row only raised; `open` at least); undefined: nothing. */
export function owedBatch(incident: Incident, owed: Partial<RecordPayload> | undefined): RecordBatch | undefined {
  if (!owed) return undefined;
  const links = owed.links ?? [];
  const entries = owed.entries ?? [];
  const followUps = owed.followUps ?? [];
  if (!owed.incident && links.length === 0 && entries.length === 0 && followUps.length === 0) return undefined;
  return { ...(owed.incident ?? {}), incident, links, entries, followUps };
}
