/**
 * Search attributes on a real cluster come from `probectl-notify setup-temporal` (scripts/temporal-cluster.sh
 * runs it for `default`). A worker refuses to start in a namespace without them, naming the command; after
 * the command it starts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { eventually, sharedStack, uniqueId } from '../helpers/shared';
import { spawnWorker } from '../helpers/worker-process';
import { findTemporalCli } from '../setup/temporal-server';
import { DIST_CLI, DIST_MAIN } from './topology';

const NAMES = ['ProbectlTenant', 'ProbectlStatus', 'ProbectlSeverity', 'ProbectlProviders', 'ProbectlExternalRefs'];

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DIST_CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => resolve({ code, out }));
  });
}

describe('search attributes through probectl-notify setup-temporal', () => {
  const shared = sharedStack();
  const address = shared.temporalAddress;
  const baseEnv = { TEMPORAL_ADDRESS: address, DATABASE_URL: shared.databaseUrl, LOG_LEVEL: 'info', PROBECTL_NOTIFY_TASK_QUEUE: uniqueId('tq') };

  test('the default namespace has them (registered by the script with setup-temporal)', async () => {
    const r = await cli(['setup-temporal', '--dry-run'], { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default' });
    expect(r.code).toBe(0);
    for (const n of NAMES) expect(r.out).toMatch(new RegExp(`^present +${n}$`, 'm'));
  });

  test('a worker refuses a namespace without them; after setup-temporal it starts', async () => {
    const namespace = uniqueId('ns').replace(/[^a-z0-9-]/gi, '-');
    const created = spawnSync(findTemporalCli(), ['operator', 'namespace', 'create', '--address', address, '--retention', '1d', '-n', namespace], { encoding: 'utf8' });
    expect({ status: created.status, err: created.stderr }).toEqual({ status: 0, err: expect.any(String) });
    // The frontend's namespace cache learns the new namespace within seconds.
    await eventually(async () => (await cli(['setup-temporal', '--dry-run', '--namespace', namespace], { TEMPORAL_ADDRESS: address })).out.includes('missing  ProbectlTenant'), { timeoutMs: 30_000, what: `namespace ${namespace} visible` });

    const refused = spawnWorker({ ...baseEnv, TEMPORAL_NAMESPACE: namespace }, 'worker', DIST_MAIN);
    const exit = await new Promise<number | null>((r) => refused.child.once('exit', (code) => r(code)));
    expect(exit).not.toBe(0);
    expect(refused.output()).toContain('probectl-notify setup-temporal');
    expect(refused.output()).toContain(`missing: ${NAMES.join(', ')}`);

    const setup = await cli(['setup-temporal', '--namespace', namespace], { TEMPORAL_ADDRESS: address });
    expect(setup.code).toBe(0);
    for (const n of NAMES) expect(setup.out).toMatch(new RegExp(`^added +${n}$`, 'm'));
    // Idempotent, and what the worker's check reads: every attribute present.
    await eventually(async () => (await cli(['setup-temporal', '--dry-run', '--namespace', namespace], { TEMPORAL_ADDRESS: address })).code === 0, { timeoutMs: 30_000, what: 'all present' });

    const worker = spawnWorker({ ...baseEnv, TEMPORAL_NAMESPACE: namespace }, 'worker', DIST_MAIN);
    try {
      await worker.ready;
      expect(worker.output()).toContain('worker started');
    } finally {
      expect(await worker.kill('SIGTERM')).toBe(0);
    }
  });
});
