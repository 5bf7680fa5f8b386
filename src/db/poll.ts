/**
 * What the Postgres-backed pollers (the inbound outbox dispatcher, the follow-up runner) share: a sleep between
 * polls that stopping can cut short, and a Postgres outage said once when it starts and once when it ends, not
 * on every poll.
 */

/** A sleep between polls; `wake()` ends the current one at once (on stop). */
export class PollSleep {
  #wake: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wake = wake;
    });
  }

  wake(): void {
    this.#wake?.();
  }
}

/** Logs a poller's Postgres outage on its first failure and its recovery on the first success after it. */
export class OutageLog {
  #failing = false;

  constructor(
    private readonly log: { info(msg: string): void; warn(obj: object, msg: string): void },
    /** The poller's name, first in each line (`inbound outbox`, `follow-ups`). */
    private readonly who: string,
    /** What failed, said on the outage's first failure. */
    private readonly what: string,
  ) {}

  ok(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.log.info(`${this.who}: Postgres reachable again`);
  }

  failed(message: string): void {
    if (this.#failing) return;
    this.#failing = true;
    this.log.warn({ err: { message } }, `${this.who}: ${this.what}; retrying every poll`);
  }
}
