import { InvalidIncidentError, TenantConflictError } from '../../client';
import { loadConfig } from '../../config/load';
import { SEVERITIES, type Incident } from '../../shared/contract';
import { required, str, type Command } from '../command';
import { EXIT, FailureError, UsageError } from '../io';
import { connectTemporal } from '../temporal';

/**
 * `--label k=v …` as an object without a prototype: any key is an own entry (`__proto__`, `constructor` too), never
 * a prototype setter that would drop it. A key given twice or a blank key is a usage error; the value may hold `=`.
 */
export function parseLabels(given: readonly string[] | undefined): Record<string, string> | undefined {
  if (!given || given.length === 0) return undefined;
  const labels = Object.create(null) as Record<string, string>;
  for (const l of given) {
    const at = l.indexOf('=');
    const key = at < 0 ? '' : l.slice(0, at);
    if (key.trim() === '') throw new UsageError('--label takes key=value with a non-blank key');
    if (Object.hasOwn(labels, key)) throw new UsageError(`--label ${JSON.stringify(key)} is given twice`);
    labels[key] = l.slice(at + 1);
  }
  return labels;
}

export const incidentOpen: Command = {
  path: ['incident', 'open'],
  summary: 'open an incident (starts its workflow; idempotent)',
  help: `
Usage: probectl-notify incident open --tenant T --incident ID --title TEXT [--severity S] [--summary TEXT]
                                     [--url URL] [--label k=v ...] [--json]

Starts incidentWorkflow probectl-<ID> through Temporal (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
PROBECTL_NOTIFY_TASK_QUEUE) exactly as probectl does: a second open while it runs is a no-op; an open of a
resolved incident is refused by Temporal and reported as already closed.

  --severity S   critical | error | warning | info (default critical)
  --label k=v    a label (repeatable); the value may hold '=', a key may not be blank or given twice

Example:
  probectl-notify incident open --tenant acme --incident inc-42 --title "Packet loss on edge-3"
  → started probectl-inc-42 (run 5d0c…)
Exit: 0 started, running or already closed; 1 the id belongs to another tenant or the input is invalid;
69 Temporal unavailable.
`,
  options: {
    tenant: { type: 'string' }, incident: { type: 'string' }, title: { type: 'string' }, severity: { type: 'string' },
    summary: { type: 'string' }, url: { type: 'string' }, label: { type: 'string', multiple: true }, json: { type: 'boolean' },
  },
  async run({ values, env, io }) {
    const tenantId = required(values, 'tenant', incidentOpen);
    const id = required(values, 'incident', incidentOpen);
    const title = required(values, 'title', incidentOpen);
    const severity = str(values, 'severity') ?? 'critical';
    if (!(SEVERITIES as readonly string[]).includes(severity)) throw new UsageError(`--severity must be one of ${SEVERITIES.join(', ')}`);
    const labels = parseLabels(values.label as string[] | undefined);
    const incident: Incident = {
      id, tenantId, title, severity: severity as Incident['severity'], source: 'probectl-notify-cli', openedAt: new Date().toISOString(),
      ...(str(values, 'summary') ? { summary: str(values, 'summary')! } : {}),
      ...(str(values, 'url') ? { url: str(values, 'url')! } : {}),
      ...(labels ? { labels } : {}),
    };
    const config = loadConfig(env);
    const t = await connectTemporal(config, io);
    try {
      const outcome = await t.incidents.openIncident(incident);
      // The CLI starts through matching (no worker beside it): how the first task went is not part of its answer.
      if (values.json) io.out(JSON.stringify(outcome.outcome === 'started' ? { outcome: outcome.outcome, workflowId: outcome.workflowId, runId: outcome.runId } : outcome));
      else if (outcome.outcome === 'closed') io.out(`already closed: ${outcome.workflowId} (${outcome.status}); nothing was opened`);
      else io.out(`${outcome.outcome} ${outcome.workflowId} (run ${outcome.runId})`);
      return EXIT.ok;
    } catch (err) {
      if (err instanceof TenantConflictError || err instanceof InvalidIncidentError) throw new FailureError(err.message);
      throw err;
    } finally {
      await t.close();
    }
  },
};
