import { LEAST_URGENT, type PaceClass } from './pace-class';

/**
 * The callers waiting for one connector key's next token in this process: one FIFO lane per priority class. The
 * next token goes to the oldest waiter of the most urgent non-empty lane; a waiter that gives up (its wait
 * passed the limit, or it was cancelled) leaves its lane without disturbing the others' order.
 */
export class WaiterQueue<T extends { readonly cls: PaceClass }> {
  readonly #lanes: T[][] = Array.from({ length: LEAST_URGENT + 1 }, () => []);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(w: T): void {
    this.#lanes[w.cls]!.push(w);
    this.#size += 1;
  }

  /** The waiter the next token goes to, left in place. */
  peek(): T | undefined {
    for (const lane of this.#lanes) if (lane.length > 0) return lane[0];
    return undefined;
  }

  /** Take out the waiter the next token goes to. */
  shift(): T | undefined {
    for (const lane of this.#lanes) {
      if (lane.length > 0) {
        this.#size -= 1;
        return lane.shift();
      }
    }
    return undefined;
  }

  /** Take out one waiter wherever it is; false when it is not queued (already served or removed). */
  remove(w: T): boolean {
    const lane = this.#lanes[w.cls]!;
    const i = lane.indexOf(w);
    if (i < 0) return false;
    lane.splice(i, 1);
    this.#size -= 1;
    return true;
  }

  /** How many waiters are served before `w` (every waiter of a more urgent class, and older ones of its own). */
  ahead(w: T): number {
    let n = 0;
    for (let c = 0; c < w.cls; c += 1) n += this.#lanes[c]!.length;
    const own = this.#lanes[w.cls]!.indexOf(w);
    return n + (own < 0 ? this.#lanes[w.cls]!.length : own);
  }

  /** How many queued waiters a newcomer of class `cls` would find before it. */
  aheadOfNew(cls: PaceClass): number {
    let n = 0;
    for (let c = 0; c <= cls; c += 1) n += this.#lanes[c]!.length;
    return n;
  }
}
