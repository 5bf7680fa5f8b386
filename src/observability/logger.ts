import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs. Secret-bearing config objects print `<secret>` on their own (src/config/secret.ts);
 * the redact paths are a second net for headers and fields that might carry a credential.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'probectl-notify' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["x-probectl-token"]',
          'req.headers["x-probectl-signature"]',
          'headers.authorization',
          '*.credential',
          '*.token',
          '*.secret',
          '*.password',
          '*.routing_key',
        ],
        censor: '<secret>',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
