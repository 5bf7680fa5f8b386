/**
 * What a run hands to the next is one payload, and Temporal refuses a payload over 2 MiB (an over-size
 * continue-as-new input terminates the workflow). The carried state is therefore bounded in encoded bytes,
 * not in entry counts: the incident itself (validated, at most ~0.9 MiB even when every character is escaped),
 * and what may grow — the recent entries shown by the query, the remembered signal ids, and entries owed to
 * Postgres while it is unreachable — is cut to fit CARRY_BUDGET_BYTES. Nothing a decision needs is cut: owed
 * correlated-signal entries that do not fit are folded into one summary entry (the count stays exact).
 */
import type { KeyedEntry } from '../../shared/records';
import type { IncidentState } from './state';

/** Well below the 2 MiB payload limit: the rest of the continue-as-new request and the payload's framing. */
export const CARRY_BUDGET_BYTES = 1_536 * 1024;

/** UTF-8 length of a string (no Buffer or TextEncoder in workflow code). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i += 1;
    } else n += 3;
  }
  return n;
}

export function encodedSize(v: unknown): number {
  return utf8Length(JSON.stringify(v));
}

/** Cut what may be cut until the state fits `budget` bytes. Mutates and returns `s`. */
export function fitCarried(s: IncidentState, budget = CARRY_BUDGET_BYTES): IncidentState {
  let size = encodedSize(s);
  const cut = <T>(list: T[], keep: number): number => {
    const before = encodedSize(list);
    list.splice(0, Math.max(list.length - keep, 0));
    return before - encodedSize(list);
  };
  // 1. The query's recent entries (the whole timeline is in Postgres, or owed to it).
  while (size > budget && s.recent.length > 0) size -= cut(s.recent, Math.floor(s.recent.length / 2));
  // 2. Remembered correlated-signal ids (dedupe of repeated deliveries; a very old repeat counts again).
  while (size > budget && s.correlation.seen.length > 0) size -= cut(s.correlation.seen, Math.floor(s.correlation.seen.length / 2));
  // 3. Owed correlated-signal entries, oldest first, folded into one summary entry.
  const owed = s.outbox.filter((i) => 'entry' in i && i.entry.kind === 'correlated');
  if (size > budget && owed.length > 1) {
    let fold = 0;
    let freed = 0;
    while (size - freed > budget && fold < owed.length) freed += encodedSize(owed[fold++]) + 1;
    const folded = owed.slice(0, Math.min(fold + 1, owed.length));
    const first = (folded[0] as { entry: KeyedEntry }).entry;
    const last = (folded[folded.length - 1] as { entry: KeyedEntry }).entry;
    const summary: KeyedEntry = {
      key: `${s.chain}:folded-${s.nextId++}`, at: last.at, kind: 'correlated',
      detail: `${folded.length} correlated signals from ${first.at} to ${last.at}, not recorded one by one (Postgres was unreachable while they piled up)`,
    };
    s.outbox = s.outbox.filter((i) => !folded.includes(i));
    s.outbox.push({ key: `entry:${summary.key}`, carriers: [], entry: summary });
    size = encodedSize(s);
  }
  return s;
}
