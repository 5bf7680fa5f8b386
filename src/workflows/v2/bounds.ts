/**
 * What a run hands to the next is one payload, and Temporal refuses a payload over 2 MiB (an over-size
 * continue-as-new input terminates the workflow). The carried state is therefore bounded in encoded bytes,
 * not in entry counts: the incident itself (validated, at most ~0.9 MiB even when every character is escaped),
 * and what may grow — the recent entries shown by the query, the remembered signal ids, and entries owed to
 * Postgres while it is unreachable — is cut to fit CARRY_BUDGET_BYTES. Nothing a decision needs is cut: owed
 * correlated-signal and refused-signal entries that do not fit are folded into one summary entry per kind (the
 * correlated count stays exact; a summary says how many signals it stands for).
 */
import type { KeyedEntry } from '../../shared/records';
import type { IncidentState } from './state';

/**
 * Well below the 2 MiB payload limit: the rest of the continue-as-new request and the payload's framing. The budget
 * is for the whole continue-as-new input, which holds the incident beside the carried state (see handover).
 */
export const CARRY_BUDGET_BYTES = 1_536 * 1024;

/** Owed entries a stream of signals feeds, folded (in this order) when the carried state is over budget. */
const FOLDABLE = [
  { kind: 'correlated', what: 'correlated signals' },
  { kind: 'signal.rejected', what: 'refused signals' },
] as const;

/** How many signals an owed entry stands for: a summary of an earlier fold counts what it replaced. */
function foldedCount(e: KeyedEntry): number {
  if (!/:folded-\d+$/.test(e.key)) return 1;
  return Number(/^(\d+) /.exec(e.detail ?? '')?.[1] ?? 1);
}

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
  // 3. Owed entries a stream of signals feeds (correlated, refused), oldest first, folded into one summary entry per
  // kind (the correlated count in the state stays exact; a summary counts what it replaced).
  for (const kind of FOLDABLE) {
    if (size <= budget) break;
    const owed = s.outbox.filter((i) => 'entry' in i && i.entry.kind === kind.kind);
    if (owed.length <= 1) continue;
    let fold = 0;
    let freed = 0;
    while (size - freed > budget && fold < owed.length) freed += encodedSize(owed[fold++]) + 1;
    const folded = owed.slice(0, Math.min(fold + 1, owed.length));
    const entries = folded.map((i) => (i as { entry: KeyedEntry }).entry);
    const first = entries[0]!;
    const last = entries[entries.length - 1]!;
    const n = entries.reduce((sum, e) => sum + foldedCount(e), 0);
    const summary: KeyedEntry = {
      key: `${s.chain}:folded-${s.nextId++}`, at: last.at, kind: kind.kind,
      detail: `${n} ${kind.what} from ${first.at} to ${last.at}, not recorded one by one (Postgres was unreachable while they piled up)`,
    };
    s.outbox = s.outbox.filter((i) => !folded.includes(i));
    s.outbox.push({ key: `entry:${summary.key}`, carriers: [], entry: summary });
    size = encodedSize(s);
  }
  return s;
}
