/** Open-loop pacing: start `count` jobs `1000/rate` ms apart (never waiting for answers), bounded in flight. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

export interface PacedResult {
  /** Jobs started. */
  started: number;
  /** Jobs skipped because `maxInFlight` was reached (the system under test fell behind). */
  skipped: number;
  /** Achieved start rate, per second. */
  achievedRate: number;
}

export async function paced(rate: number, durationMs: number, job: (i: number) => Promise<void>, maxInFlight = 500): Promise<PacedResult> {
  const count = Math.max(1, Math.round((rate * durationMs) / 1000));
  const start = Date.now();
  let inFlight = 0;
  let started = 0;
  let skipped = 0;
  let lastStart = start;
  const all: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    await sleep(start + (i * 1000) / rate - Date.now());
    if (inFlight >= maxInFlight) {
      skipped += 1;
      continue;
    }
    inFlight += 1;
    started += 1;
    lastStart = Date.now();
    all.push(job(i).catch(() => undefined).finally(() => void (inFlight -= 1)));
  }
  await Promise.all(all);
  const achievedRate = started > 1 && lastStart > start ? Math.round(((started - 1) * 10_000) / (lastStart - start)) / 10 : rate;
  return { started, skipped, achievedRate };
}

/** Closed loop: `concurrency` workers run `job` back to back until `durationMs` has passed. */
export async function closedLoop(concurrency: number, durationMs: number, job: (i: number) => Promise<void>): Promise<{ done: number; elapsedMs: number }> {
  const end = Date.now() + durationMs;
  const start = Date.now();
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const i = n++;
        await job(i).catch(() => undefined);
      }
    }),
  );
  return { done: n, elapsedMs: Date.now() - start };
}
