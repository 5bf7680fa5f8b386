import { WorkflowNotFoundError } from '@temporalio/client';
import { loadConfig } from '../../config/load';
import { required, str, type Command } from '../command';
import { EXIT } from '../io';
import { connectTemporal, within } from '../temporal';
import { isStillOpen } from '../../client';
import { lookup, printLinks } from './incident-show';

export const incidentResolve: Command = {
  path: ['incident', 'resolve'],
  summary: 'resolve an incident (fan-out to every connector except the source)',
  help: `
Usage: probectl-notify incident resolve --incident ID [--tenant T] [--source S] [--actor NAME] [--reason TEXT]
                                        [--wait] [--json]

Sends the \`resolve\` signal with the incident's own tenant. The workflow resolves every connector except
the one named by --source (a connector id, api or probectl; default api). A second resolve is a no-op.

  --wait   wait for the workflow's result (after the fan-out, up to 2 minutes) and print it

Example:
  probectl-notify incident resolve --incident inc-42 --actor alice --reason "fixed upstream" --wait
Exit: 0 resolved (or already resolved), 1 no such incident, 69 Temporal unavailable.
`,
  options: {
    incident: { type: 'string' }, tenant: { type: 'string' }, source: { type: 'string' }, actor: { type: 'string' },
    reason: { type: 'string' }, wait: { type: 'boolean' }, json: { type: 'boolean' },
  },
  async run({ values, env, io }) {
    const id = required(values, 'incident', incidentResolve);
    const config = loadConfig(env);
    const t = await connectTemporal(config, io);
    try {
      const { tenantId, status } = await lookup(t, id, str(values, 'tenant'));
      if (!isStillOpen(status)) {
        io.out(`already closed: probectl-${id} is ${status}; nothing to do`);
        return EXIT.ok;
      }
      const actor = str(values, 'actor');
      const reason = str(values, 'reason');
      await t.incidents.resolve(id, {
        tenantId, source: str(values, 'source') ?? 'api', at: new Date().toISOString(),
        ...(actor ? { actor } : {}), ...(reason ? { reason } : {}),
      });
      io.out(`resolve sent to probectl-${id}`);
      if (values.wait) {
        const result = await within(120_000, 'the workflow did not complete within 2 minutes (is a worker running?)', t.incidents.result(id));
        if (values.json) io.out(JSON.stringify(result, null, 2));
        else printLinks(io, result.links);
      }
      return EXIT.ok;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        io.out(`already closed: probectl-${id}; nothing to do`);
        return EXIT.ok;
      }
      throw err;
    } finally {
      await t.close();
    }
  },
};

