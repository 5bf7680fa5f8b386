/**
 * The Temporal SDK's own log (worker, workflow and activity loggers) into the service's JSON log, so an
 * activity failure is logged once ("Activity failed", by the SDK) as structured JSON with its reason.
 * Errors are reduced to name, type and message: messages are scrubbed of secrets at the HTTP client
 * boundary, and pino's redact paths apply on top.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { LogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import type { Logger } from './logger';

function plainError(err: unknown): Record<string, unknown> {
  if (err instanceof ApplicationFailure) {
    return { name: err.name, type: err.type, nonRetryable: err.nonRetryable, message: err.message };
  }
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { message: String(err) };
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error',
};

export class PinoSdkLogger implements SdkLogger {
  constructor(private readonly out: Logger) {}

  log_(level: LogLevel, message: string, meta?: LogMetadata): void {
    const { error, failure, ...rest } = (meta ?? {}) as Record<string, unknown>;
    const fields: Record<string, unknown> = { sdk: true, ...rest };
    if (error !== undefined) fields.reason = plainError(error);
    if (failure !== undefined) fields.reason = plainError(failure);
    this.out[LEVELS[level] ?? 'info'](fields, message);
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.log_(level, message, meta);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log_('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log_('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log_('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log_('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log_('ERROR', message, meta);
  }
}
