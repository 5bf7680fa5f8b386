/**
 * What the Postgres-backed pollers (the inbound outbox dispatcher, the follow-up runner) share: their loop, a sleep
 * between polls that stopping can cut short, and a Postgres outage said once when it starts and once when it ends,
 * not on every poll.
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

/** One poller's loop: what it does per pass and how it is told to stop. */
export interface PollLoop {
  running(): boolean;
  /** One pass; true when a full batch was listed (more may be due: go again at once). Throws when Postgres fails. */
  step(): Promise<boolean>;
  /** After each pass, while running (housekeeping). */
  after?(): Promise<void>;
  /** The one-line reason a failed pass logs. */
  reason(err: unknown): string;
  outage: OutageLog;
  sleep: Pick<PollSleep, 'sleep'>;
  pollMs: number;
}

/** Pass after pass until stopped: at once while a pass says more is due, else after `pollMs`. */
export async function pollUntilStopped(l: PollLoop): Promise<void> {
  while (l.running()) {
    let more = false;
    try {
      more = await l.step();
      l.outage.ok();
    } catch (err) {
      l.outage.failed(l.reason(err));
    }
    if (l.after && l.running()) await l.after();
    if (!more && l.running()) await l.sleep.sleep(l.pollMs);
  }
}
