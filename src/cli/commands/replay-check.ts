import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { loadConfig } from '../../config/load';
import { bundleWorkflows, prebuiltBundle } from '../../runtime/workflow-bundle';
import { WORKFLOW_TYPE } from '../../workflows/messages';
import { str, type Command } from '../command';
import { EXIT, FailureError, UsageError } from '../io';
import { connectTemporal } from '../temporal';
import { line } from '../terminal';

const DEFAULT_LIMIT = 1000;

export const replayCheck: Command = {
  path: ['replay-check'],
  summary: 'replay the histories of open incidents against this build\'s workflow code (run before deploying a worker)',
  help: `
Usage: probectl-notify replay-check [--limit N] [--query VISIBILITY-QUERY] [--bundle FILE]

Fetches the history of every running incident workflow on the task queue (TEMPORAL_NAMESPACE,
PROBECTL_NOTIFY_TASK_QUEUE; at most --limit, default ${DEFAULT_LIMIT}, newest first) and replays each against the
workflow code of this build (dist/workflow-bundle.js, or --bundle). A history that does not replay means the new
worker would fail those incidents' workflow tasks (a change without a patch): do not deploy it. Prints one line per
failure and a summary with timings. Nothing is changed on the server.

  --limit N       replay at most N open incidents
  --query Q       an extra visibility filter, ANDed, e.g. "ProbectlTenant = 'acme'"
  --bundle FILE   the workflow bundle to check (default: the one this build's worker runs, or the code
                  bundled from source when the build has none)

Example (before rolling out a new worker image):
  probectl-notify replay-check --limit 5000

Exit: 0 every history replayed, 1 at least one did not (or no bundle), 2 usage, 69 Temporal unreachable, 78 configuration.
`,
  options: { limit: { type: 'string' }, query: { type: 'string' }, bundle: { type: 'string' } },
  async run({ values, env, io }) {
    const limit = Number(str(values, 'limit') ?? DEFAULT_LIMIT);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit takes a positive integer');
    const extra = str(values, 'query');
    const given = str(values, 'bundle');
    if (given !== undefined && !existsSync(given)) throw new FailureError(`no workflow bundle at ${given}`);
    // The bundle the worker of this build runs (dist/workflow-bundle.js); a build without one bundles the code here.
    const prebuilt = prebuiltBundle(join(__dirname, '..', '..'));
    const config = loadConfig(env);
    const t = await connectTemporal(config, io);
    const started = Date.now();
    try {
      const { DefaultLogger, Runtime, Worker } = await import('@temporalio/worker');
      // The SDK's own log (worker state changes, each replay's nondeterminism warning) stays out of the
      // output: the failures are reported below, one line each.
      try {
        Runtime.install({ logger: new DefaultLogger('ERROR') });
      } catch {
        // a runtime exists already in this process
      }
      const workflowBundle = given !== undefined
        ? { codePath: given }
        : prebuilt ?? { code: (await bundleWorkflows()).code };
      const query = `WorkflowType = '${WORKFLOW_TYPE}' AND TaskQueue = '${config.temporal.taskQueue.replace(/'/g, '')}' AND ExecutionStatus = 'Running'${extra ? ` AND (${extra})` : ''}`;
      const histories = (async function* () {
        let n = 0;
        for await (const w of t.client.workflow.list({ query })) {
          if (n++ >= limit) return;
          yield { workflowId: w.workflowId, history: await t.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory() };
        }
      })();
      let replayed = 0;
      const failed: string[] = [];
      for await (const r of Worker.runReplayHistories({ workflowBundle }, histories)) {
        replayed += 1;
        if (r.error) {
          failed.push(r.workflowId);
          io.out(line`FAIL ${r.workflowId}: ${(r.error as Error).message.split('\n')[0]!.slice(0, 300)}`);
        }
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      io.out(`${replayed} open incident${replayed === 1 ? '' : 's'} replayed in ${seconds} s: ${replayed - failed.length} ok, ${failed.length} failed`);
      return failed.length === 0 ? EXIT.ok : EXIT.failure;
    } finally {
      await t.close();
    }
  },
};
