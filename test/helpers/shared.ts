import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { stackFile, type SharedStack } from '../setup/stack-file';

export function sharedStack(): SharedStack {
  return JSON.parse(readFileSync(stackFile(), 'utf8')) as SharedStack;
}

let counter = 0;
/** A unique id for tenants, incidents and task queues, so test files never see each other's state. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

type Maybe<T> = T | undefined | null | false;

/** Poll until `fn` yields a value (not undefined/null/false); the value is returned. */
export async function eventually<T>(fn: () => Maybe<T> | Promise<Maybe<T>>, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `p`, marked as handled at once: for a promise a test awaits only after other awaits. Node treats a rejection with
 * no handler at the end of its tick as an uncaught error, which fails the running test with that error out of
 * context (seen in CI); awaiting the returned promise later still throws it where the test expects it. For work
 * expected to succeed: a rejection is also logged when it happens, naming `what`, so a test that then fails on a
 * later wait (a timeout) shows the first cause.
 */
export function handled<T>(p: Promise<T>, what = 'background work'): Promise<T> {
  // inspect: the whole cause chain (a WorkflowFailedError's cause is the useful part), and it never throws.
  p.catch((err: unknown) => console.warn(`[handled] ${what} failed: ${inspect(err, { depth: 6 })}`));
  return p;
}

/**
 * A workflow history as searchable text: every string in it, and every payload's bytes decoded as UTF-8
 * (JSON.stringify of the proto objects would print payload bytes as numbers, hiding what they hold).
 */
export function historyText(history: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (v === null || v === undefined) return;
    if (typeof v === 'string') out.push(v);
    else if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object') for (const x of Object.values(v as Record<string, unknown>)) walk(x);
  };
  walk(history);
  return out.join('\n');
}
