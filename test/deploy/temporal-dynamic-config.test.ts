/**
 * Every Temporal server we describe or start runs the priority matcher (docs/operations.md, "Storms"): the compose
 * file mounts deploy/temporal/dynamicconfig.yaml where DYNAMIC_CONFIG_FILE_PATH points, the file turns
 * `matching.useNewMatcher` on and writes the service's task queue to one partition (priority holds per partition),
 * the cluster script copies it, and the dev servers pass both on the command line. The same file and command lines
 * raise the server's buffered-signal limit (docs/operations.md, "Signal bursts").
 * (test/e2e/task-queue-priority.test.ts shows what it does on a running server.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

describe('the Temporal servers run the priority matcher', () => {
  test('deploy/temporal/dynamicconfig.yaml turns matching.useNewMatcher on', () => {
    expect(read('deploy/temporal/dynamicconfig.yaml')).toMatch(/^matching\.useNewMatcher:\n\s+- value: true\s*$/m);
  });

  test('deploy/temporal/dynamicconfig.yaml writes the service\'s task queue to one partition and leaves the reads alone', () => {
    const doc = parse(read('deploy/temporal/dynamicconfig.yaml')) as Record<string, Array<{ value: unknown; constraints?: Record<string, unknown> }>>;
    expect(doc['matching.numTaskqueueWritePartitions']).toEqual([{ value: 1, constraints: { taskQueueName: 'probectl-notify' } }]);
    // Lowering the read partitions would strand what an older setting left in the others (docs/operations.md).
    expect(doc['matching.numTaskqueueReadPartitions']).toBeUndefined();
    expect(doc['matching.useNewMatcher']).toEqual([{ value: true }]);
    // The constrained name is the service's default task queue.
    expect(read('src/config/load.ts')).toContain("PROBECTL_NOTIFY_TASK_QUEUE: z.string().min(1).default('probectl-notify')");
  });

  test('every server takes a burst of signals to one incident without failing its running workflow task', () => {
    // At the default (100 buffered events) a stream of correlated signals made the server fail each task of a run
    // and the worker replay it, until the per-run signal limit refused the rest (test/e2e/continue-as-new.test.ts).
    const doc = parse(read('deploy/temporal/dynamicconfig.yaml')) as Record<string, Array<{ value: unknown; constraints?: Record<string, unknown> }>>;
    expect(doc['history.maximumBufferedEventsBatch']).toEqual([{ value: 1000 }]);
    expect(read('scripts/temporal-dev-server.sh')).toContain('--dynamic-config-value history.maximumBufferedEventsBatch=1000');
    expect(read('dev/dev-server.ts')).toContain("'--dynamic-config-value', 'history.maximumBufferedEventsBatch=1000'");
  });

  test('docker-compose.yml mounts that file where DYNAMIC_CONFIG_FILE_PATH points', () => {
    const compose = read('docker-compose.yml');
    const path = /DYNAMIC_CONFIG_FILE_PATH:\s*(\S+)/.exec(compose)?.[1];
    expect(path).toBeDefined();
    expect(compose).toContain(`./deploy/temporal/dynamicconfig.yaml:${path}:ro`);
  });

  test('the cluster script copies it; the dev-server starters pass the setting', () => {
    // It copies TEMPORAL_CLUSTER_DYNAMIC_CONFIG, which defaults to the shipped file.
    expect(read('scripts/temporal-cluster.sh')).toContain('dynamic_config="${TEMPORAL_CLUSTER_DYNAMIC_CONFIG:-$root/deploy/temporal/dynamicconfig.yaml}"');
    expect(read('scripts/temporal-cluster.sh')).toMatch(/cp "\$dynamic_config" "\$state\/config\/dynamicconfig\.yaml"/);
    expect(read('scripts/temporal-dev-server.sh')).toContain('--dynamic-config-value matching.useNewMatcher=true');
    expect(read('dev/dev-server.ts')).toContain("'--dynamic-config-value', 'matching.useNewMatcher=true'");
    expect(read('scripts/temporal-dev-server.sh')).toContain('--dynamic-config-value matching.numTaskqueueWritePartitions=1');
    expect(read('dev/dev-server.ts')).toContain("'--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1'");
    expect(read('scripts/temporal-dev-server.sh') + read('dev/dev-server.ts')).not.toContain('numTaskqueueReadPartitions');
  });
});
