import { WorkflowNotFoundError } from '@temporalio/client';
import { loadConfig } from '../../config/load';
import { redriveSignal } from '../../workflows/messages';
import { incidentWorkflowId } from '../../shared/ids';
import type { Link } from '../../shared/contract';
import { required, str, type Command } from '../command';
import { EXIT, FailureError, UsageError } from '../io';
import { connectTemporal, within } from '../temporal';
import { isStillOpen } from '../../client';
import { lookup, printLink } from './incident-show';
import { line } from '../terminal';

const QUERY_TIMEOUT = 'no worker answered the query within 15 s (is a worker running?)';

export const incidentRedrive: Command = {
  path: ['incident', 'redrive'],
  summary: 'open one failed connector of an incident again',
  help: `
Usage: probectl-notify incident redrive --incident ID --connector C [--tenant T] [--actor NAME] [--wait SECONDS]

A connector whose open failed (the provider refused permanently, or its retries ran out) stays failed; the
others are unaffected. Once the cause is fixed (a rotated credential, a missing project), this sends the
workflow's \`redrive\` signal: it opens that one connector again, with the same idempotency keys, and
records connector.redriven on the timeline. Only a link in status failed of an unresolved incident is
re-driven; the command checks that first. Then it waits until the link has settled.

  --wait SECONDS   how long to wait for the new attempt (default 60; 0: do not wait)

Example:
  probectl-notify incident redrive --incident inc-42 --connector jira
  → redrive sent: inc-42/jira
  → jira: open OPS-7 https://acme.atlassian.net/browse/OPS-7
Exit: 0 the link is open again (or the signal was sent, with --wait 0); 1 no such incident or connector,
the link is not failed, or the new attempt failed too; 69 Temporal unavailable.
`,
  options: { incident: { type: 'string' }, connector: { type: 'string' }, tenant: { type: 'string' }, actor: { type: 'string' }, wait: { type: 'string' } },
  async run({ values, env, io }) {
    const id = required(values, 'incident', incidentRedrive);
    const connectorId = required(values, 'connector', incidentRedrive);
    const waitRaw = str(values, 'wait') ?? '60';
    if (!/^\d{1,4}$/.test(waitRaw)) throw new UsageError('--wait takes whole seconds');
    const waitMs = Number(waitRaw) * 1000;
    const config = loadConfig(env);
    const t = await connectTemporal(config, io);
    try {
      const { tenantId, status } = await lookup(t, id, str(values, 'tenant'));
      if (!isStillOpen(status)) throw new FailureError(`probectl-${id} is ${status}; a closed incident cannot be re-driven`);
      // This command waits for the link to move; a paused run moves nothing until it is unpaused.
      if (status === 'PAUSED') throw new FailureError(`probectl-${id} is PAUSED; unpause it first (temporal workflow unpause --workflow-id probectl-${id}), then re-drive`);
      const linkOf = async (): Promise<Link | undefined> =>
        (await within(15_000, QUERY_TIMEOUT, t.incidents.getIncident(id))).links.find((l) => l.connectorId === connectorId);
      const before = await linkOf();
      if (!before) throw new FailureError(`incident ${id} has no connector ${connectorId}`);
      if (before.status !== 'failed') throw new FailureError(`${connectorId} is ${before.status}; only a failed link can be re-driven`);
      const actor = str(values, 'actor') ?? 'probectl-notify-cli';
      await t.client.workflow.getHandle(incidentWorkflowId(id)).signal(redriveSignal, { tenantId, connectorId, actor, at: new Date().toISOString() });
      io.out(line`redrive sent: ${id}/${connectorId}`);
      if (waitMs === 0) return EXIT.ok;
      // The link goes pending as soon as the workflow takes the signal, then open or failed.
      const deadline = Date.now() + waitMs;
      let sawPending = false;
      for (;;) {
        const link = await linkOf();
        if (link?.status === 'pending') sawPending = true;
        if (link && link.status !== 'pending' && (sawPending || link.updatedAt !== before.updatedAt)) {
          printLink(io, link);
          return link.status === 'failed' ? EXIT.failure : EXIT.ok;
        }
        if (Date.now() > deadline) {
          io.out(line`${connectorId}: still ${link?.status ?? 'unknown'} after ${waitRaw} s; see: probectl-notify incident show --incident ${id}`);
          return EXIT.failure;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new FailureError(`no running incident ${id}`);
      throw err;
    } finally {
      await t.close();
    }
  },
};
