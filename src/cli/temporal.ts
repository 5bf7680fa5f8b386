import { Client, Connection } from '@temporalio/client';
import { within as withinMs } from '../shared/within';
import { IncidentClient } from '../client';
import type { AppConfig } from '../config/load';
import { clientConnectionOptions } from '../config/temporal';
import { UnavailableError, reach, type Io } from './io';

export interface TemporalSession {
  connection: Connection;
  client: Client;
  incidents: IncidentClient;
  close(): Promise<void>;
}

/** The configuration's start-up notices (settings under an alias name), one `notice:` line each on stderr. */
export function printNotices(config: AppConfig, io: Io): void {
  for (const n of config.notices) io.err(`notice: ${n}`);
}

/**
 * Connect to the Temporal frontend of the client settings (TEMPORAL_* variables, or a named profile); an
 * unreachable server is UnavailableError (exit 69).
 */
export async function connectTemporal(config: AppConfig, io: Io): Promise<TemporalSession> {
  printNotices(config, io);
  const connection = await reach(`Temporal at ${config.temporal.address}`, () =>
    Connection.connect({ ...clientConnectionOptions(config.temporal), connectTimeout: '5s' }),
  );
  try {
    await reach(`Temporal at ${config.temporal.address}`, () => connection.workflowService.getSystemInfo({}));
  } catch (err) {
    await connection.close();
    throw err;
  }
  const client = new Client({ connection, namespace: config.temporal.namespace });
  return {
    connection,
    client,
    incidents: new IncidentClient({ client, taskQueue: config.temporal.taskQueue }),
    close: () => connection.close(),
  };
}

/** Reject after `ms` with UnavailableError(`what`): queries wait for a worker that may not be there. */
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  return withinMs(p, ms, () => new UnavailableError(what));
}
