/** A change counter: handlers and settled calls bump it; the main loop waits for it to move. */
export class Wake {
  #n = 0;
  #seen = 0;

  bump(): void {
    this.#n += 1;
  }

  /** Has anything changed since the last `take()`? */
  get pending(): boolean {
    return this.#n !== this.#seen;
  }

  take(): void {
    this.#seen = this.#n;
  }
}
