import { WorkflowNotFoundError } from '@temporalio/client';
import { loadConfig } from '../../config/load';
import type { IncidentStateView, Link } from '../../shared/contract';
import { required, str, type Command } from '../command';
import { EXIT, FailureError, type Io } from '../io';
import { connectTemporal, within, type TemporalSession } from '../temporal';
import { line } from '../terminal';

/**
 * The incident's tenant (from the memo) and status; FailureError when there is no such incident or it
 * belongs to another tenant than `tenant` (the same answer, as in the API).
 */
export async function lookup(t: TemporalSession, id: string, tenant: string | undefined): Promise<{ tenantId: string; status: string }> {
  const found = await t.incidents.tenantOf(id);
  // `undefined` alone means "any tenant": '' is a tenant no incident has (parseCommandArgs refuses it before this).
  if (!found || !found.tenantId || (tenant !== undefined && found.tenantId !== tenant)) {
    throw new FailureError(`no incident ${id}${tenant !== undefined ? ` for tenant ${tenant}` : ''}`);
  }
  return { tenantId: found.tenantId, status: found.status };
}

/** `incident show`: titles, actors, references and errors come from callers and providers, so each is {@link line}d. */
export function printState(io: Io, s: IncidentStateView): void {
  io.out(line`incident ${s.incident.id} · tenant ${s.incident.tenantId} · ${s.incident.severity} · ${s.status}`);
  io.out(line`  ${s.incident.title}`);
  io.out('links:');
  if (s.links.length === 0) io.out('  (none)');
  for (const l of s.links) {
    io.out(`  ${line`${l.connectorId.padEnd(14)} ${l.provider.padEnd(11)} ${l.status.padEnd(12)} ${l.externalRef ?? ''}`}${l.externalUrl ? line` ${l.externalUrl}` : ''}${l.error ? line`  error: ${l.error}` : ''}`);
  }
  io.out('timeline (latest):');
  for (const e of s.timeline.slice(-15)) {
    io.out(`  ${line`${String(e.seq).padStart(3)} ${e.at} ${e.kind}`}${e.connectorId ? line` ${e.connectorId}` : ''}${e.source ? line` source=${e.source}` : ''}${e.actor ? line` actor=${e.actor}` : ''}${e.detail ? line` — ${e.detail}` : ''}`);
  }
}

/** One link's final status, as `incident redrive` prints it once the new attempt has settled. */
export function printLink(io: Io, l: Link): void {
  io.out(`${line`${l.connectorId}: ${l.status}`}${l.externalRef ? line` ${l.externalRef}` : ''}${l.externalUrl ? line` ${l.externalUrl}` : ''}${l.error ? line`  error: ${l.error}` : ''}`);
}

/** Each link's final status, as `incident resolve --wait` prints them. */
export function printLinks(io: Io, links: readonly Link[]): void {
  for (const l of links) io.out(`  ${line`${l.connectorId.padEnd(14)} ${l.status}`}${l.error ? line`  error: ${l.error}` : ''}`);
}

export const incidentShow: Command = {
  path: ['incident', 'show'],
  summary: "show an incident's status, links and latest timeline",
  help: `
Usage: probectl-notify incident show --incident ID [--tenant T] [--json]

Asks the workflow (query \`state\`): status, one link per connector (status, external reference and URL,
the scrubbed error of a failed one) and the latest timeline entries. A worker must be running to answer
(also for a completed incident). With --tenant, an incident of another tenant is reported as not found.

Example:
  probectl-notify incident show --incident inc-42
Exit: 0 shown, 1 no such incident, 69 Temporal unavailable or no worker answered within 15 s.
`,
  options: { incident: { type: 'string' }, tenant: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, env, io }) {
    const id = required(values, 'incident', incidentShow);
    const config = loadConfig(env);
    const t = await connectTemporal(config, io);
    try {
      await lookup(t, id, str(values, 'tenant'));
      const state = await within(15_000, `no worker answered the query within 15 s (is a worker polling task queue ${config.temporal.taskQueue}?)`, t.incidents.getIncident(id));
      if (values.json) io.out(JSON.stringify(state, null, 2));
      else printState(io, state);
      return EXIT.ok;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new FailureError(`no incident ${id}`);
      throw err;
    } finally {
      await t.close();
    }
  },
};
