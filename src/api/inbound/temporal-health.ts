/**
 * What this process last learned about reaching Temporal, shared by the inbound route and the outbox
 * dispatcher. After a failure to reach it, requests stop trying Temporal inline for a short while and answer
 * `queued` at once (the dispatcher probes once a poll and signals when it answers); a success anywhere
 * clears that. The hold is short, so without a dispatcher a request tries again soon on its own.
 */
export class TemporalHealth {
  #downSince: number | undefined;
  #suspectUntil = 0;

  constructor(
    private readonly holdMs = 2_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Should a request try Temporal inline now? */
  worthTrying(): boolean {
    return this.now() >= this.#suspectUntil;
  }

  /** Temporal was last seen unreachable (until a success says otherwise). */
  isDown(): boolean {
    return this.#downSince !== undefined;
  }

  unreachable(): void {
    this.#downSince ??= this.now();
    this.#suspectUntil = this.now() + this.holdMs;
  }

  /** Temporal answered; returns how long it had been seen down (ms), if it had. */
  reachable(): number | undefined {
    const since = this.#downSince;
    this.#downSince = undefined;
    this.#suspectUntil = 0;
    return since === undefined ? undefined : this.now() - since;
  }
}
