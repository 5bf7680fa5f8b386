/**
 * A provider call carries what the workflow owed Postgres when it was scheduled (its decisions' entries, link
 * states, the incident row, follow-ups such as probectl's callback) and normally writes it with its own outcome,
 * in one transaction. A call that does not answer promptly must not hold those records: an open retrying against
 * 503s for hours, or waiting for a rate token in a storm, would otherwise keep an acknowledgement's callback and
 * timeline entry out of Postgres for as long (the workflow counts them as carried and does not write them itself).
 *
 * So the carried records are written on their own as soon as the call has run for OWED_GRACE_MS without an answer,
 * or at once when an attempt fails (before the retry). At most once per attempt; a quick answer writes nothing
 * extra. The write never delays or fails the call: its errors are swallowed (the recorder already reports and
 * cools down), and the outcome write that follows carries the same keyed records again (idempotent).
 */

/** How long a call may run before what it carries is written without it. */
export const OWED_GRACE_MS = 2_000;

/**
 * Run `work`; write the carried records (`write`, absent when nothing is carried) once `graceMs` pass without an
 * answer or when `work` fails. An early write still running when `work` answers is awaited first, so the outcome
 * write that follows is never overtaken by it.
 */
export async function carrying<T>(
  write: (() => Promise<unknown>) | undefined,
  work: () => Promise<T>,
  graceMs: number = OWED_GRACE_MS,
): Promise<T> {
  if (!write) return work();
  let written: Promise<unknown> | undefined;
  const writeOnce = (): Promise<unknown> => (written ??= write().catch(() => undefined));
  const timer = setTimeout(() => void writeOnce(), graceMs);
  try {
    const out = await work();
    clearTimeout(timer);
    if (written) await written;
    return out;
  } catch (err) {
    clearTimeout(timer);
    await writeOnce();
    throw err;
  }
}
