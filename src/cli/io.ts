/**
 * What every command shares: exit codes scripts can rely on, typed failures that map to them, and the
 * output streams (tests and the demo pass their own).
 */
import { ConfigError } from '../config/errors';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** EX_UNAVAILABLE: Temporal or Postgres cannot be reached. */
  unavailable: 69,
  /** EX_CONFIG: the configuration (environment) is invalid. */
  config: 78,
} as const;

export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
}

export class UnavailableError extends Error {
  readonly exitCode = EXIT.unavailable;
}

/** A command ran and the answer is "no" (not found, refused, a check failed). */
export class FailureError extends Error {
  readonly exitCode = EXIT.failure;
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (t) => void process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => void process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};

/** Exit code and one message for any error. Messages are ours or the SDK's; neither carries a secret. */
export function describeError(err: unknown): { code: number; message: string } {
  if (err instanceof ConfigError) return { code: EXIT.config, message: `configuration error: ${err.message}` };
  if (err instanceof UsageError || err instanceof UnavailableError || err instanceof FailureError) {
    return { code: err.exitCode, message: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: EXIT.failure, message };
}

/** Does this error mean "the service is not there" (refused, timed out, DNS)? */
export function isUnreachable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
  const text = `${String(e?.code ?? '')} ${String(e?.message ?? '')}`;
  if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|UNAVAILABLE|DEADLINE_EXCEEDED|Failed to connect|transport error|Connection terminated|timeout expired/i.test(text)) {
    return true;
  }
  return e?.cause !== undefined && e.cause !== err ? isUnreachable(e.cause) : false;
}

/** Run `fn`, turning "cannot reach it" into UnavailableError with a message that names only `what`. */
export async function reach<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUnreachable(err)) throw new UnavailableError(`${what} is unavailable: ${firstLine(err)}`);
    throw err;
  }
}

function firstLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  // Connection strings never reach here (pg reports host:port only), but cut anything URL-shaped anyway.
  return (m.split('\n')[0] ?? '').replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>').slice(0, 300);
}
