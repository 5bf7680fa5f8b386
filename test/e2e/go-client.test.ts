/**
 * The Go example (examples/go-client, go.temporal.io/sdk) drives an incident through the documented
 * contract against the test dev server and a worker of this project: open, correlate, acknowledge,
 * query, resolve, await the result. Proof that probectl, written in Go, can use the contract as is.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { uniqueId } from '../helpers/shared';
import { startStack, type TestStack } from '../helpers/stack';

const ROOT = join(__dirname, '..', '..');
const SRC = join(ROOT, 'examples', 'go-client');
const BIN = join(ROOT, 'test-artifacts', 'go-client', 'go-client');
const ROUTING_KEY = 'R0UT1NGKEYgoClient000000000000001';

/** Build once and cache under test-artifacts/ (rebuilt when a source is newer than the binary). */
function buildGoClient(): string {
  const newest = Math.max(...readdirSync(SRC).map((f) => statSync(join(SRC, f)).mtimeMs));
  if (existsSync(BIN) && statSync(BIN).mtimeMs >= newest) return BIN;
  mkdirSync(join(ROOT, 'test-artifacts', 'go-client'), { recursive: true });
  const r = spawnSync('go', ['build', '-o', BIN, '.'], { cwd: SRC, encoding: 'utf8', env: { ...process.env, CGO_ENABLED: '0' }, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`go build of examples/go-client failed (Go ≥ 1.26 and the module proxy or a warm module cache are needed):\n${r.stdout}\n${r.stderr}`);
  return BIN;
}

function run(bin: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('Go client example against the dev server', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  let bin: string;
  const tenant = uniqueId('gotenant');

  beforeAll(async () => {
    bin = buildGoClient();
    pd = await new PagerDutyDouble().start();
    stack = await startStack({ env: { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${ROUTING_KEY}` } });
  }, 660_000);
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  test('open, correlate, acknowledge, query, resolve, await: one alert, acknowledged, then resolved', async () => {
    const incidentId = uniqueId('go');
    const r = await run(bin, [
      '-address', stack.config.temporal.address, '-namespace', 'default', '-task-queue', stack.config.temporal.taskQueue,
      '-tenant', tenant, '-incident', incidentId, '-timeout', '90s',
    ]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const steps = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(steps.map((s) => s.step)).toEqual(['opened', 'links', 'state', 'result']);
    expect(steps[0]).toMatchObject({ workflowId: `probectl-${incidentId}` });
    expect(steps[1]!.links).toEqual([expect.objectContaining({ connectorId: 'pagerduty', status: 'open', externalRef: `probectl-${incidentId}` })]);
    expect(steps[2]).toMatchObject({ status: 'acknowledged', correlationCount: 1 });
    expect(steps[3]!.resolution).toMatchObject({ source: 'probectl', actor: 'go-client', reason: 'fixed upstream' });
    expect(steps[3]!.resolution.links).toEqual([expect.objectContaining({ connectorId: 'pagerduty', status: 'resolved' })]);

    const alerts = pd.alerts.filter((a) => a.dedupKey === `probectl-${incidentId}`);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ status: 'resolved', triggers: 1 });
    // The contract's task-queue priority for its severity (the example opens a critical incident unless told: 1).
    const described = await stack.client.workflow.getHandle(`probectl-${incidentId}`).describe();
    expect(described.raw.workflowExecutionInfo?.priority?.priorityKey).toBe(1);
    // The tenant memo the Go client set is what the API reads.
    expect((await stack.incidents.tenantOf(incidentId))?.tenantId).toBe(tenant);
    const timeline = await stack.mirror.timeline(tenant, incidentId);
    expect(timeline.map((t) => t.kind)).toEqual(expect.arrayContaining(['opened', 'connector.opened', 'correlated', 'acknowledged', 'resolved', 'connector.resolved']));

    // The same incident opened again after it completed: the server refuses the start, and the client sees it
    // (WorkflowExecutionErrorWhenAlreadyStarted; without it the Go SDK returns the completed run as if it had
    // started, and on 528100c the example went on to signal a closed workflow and exited 1). Nothing pages.
    const again = await run(bin, [
      '-address', stack.config.temporal.address, '-namespace', 'default', '-task-queue', stack.config.temporal.taskQueue,
      '-tenant', tenant, '-incident', incidentId, '-timeout', '60s',
    ]);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });
    expect(again.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      { step: 'opened', workflowId: `probectl-${incidentId}`, outcome: 'already_closed' },
    ]);
    expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${incidentId}`)).toEqual([expect.objectContaining({ triggers: 1, status: 'resolved' })]);
  });
});
