/**
 * The cluster suite's scenario table: the fault harness's counting (distinct objects at the doubles, never
 * requests), recorded in test-artifacts/cluster-<mode>.md (one file per run of the suite) and printed.
 */
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tally, type Counts, type IncidentExpectation, type ScenarioResult } from '../faults/harness';
import { ROOT } from './server';
import { CLUSTER_MODE } from './topology';

const FILE = join(ROOT, 'test-artifacts', `cluster-${CLUSTER_MODE}.md`);
const cell = (c: Counts) => `${c.expected}/${c.present}/${c.duplicated}/${c.lost}`;

function row(r: ScenarioResult): string {
  const rl = r.tally.alerts.resolutionsLost + r.tally.tickets.resolutionsLost + r.tally.posts.resolutionsLost;
  return `| ${r.name} | ${r.injected.replace(/\|/g, '/')} | ${r.incidents} | ${cell(r.tally.alerts)} | ${cell(r.tally.tickets)} | ${cell(r.tally.posts)} | ${rl} | ${r.unsettled} | ${r.seconds} |`;
}

/** Run a scenario body that returns its expectations; time it, count at the doubles, record the row. */
export async function scenario(
  name: string,
  body: () => Promise<{ expectations: IncidentExpectation[]; unsettled?: number; injected: string }>,
): Promise<ScenarioResult> {
  const t0 = Date.now();
  const out = await body();
  const r: ScenarioResult = {
    group: 'cluster', name, injected: out.injected, incidents: out.expectations.length, tally: tally(out.expectations),
    unsettled: out.unsettled ?? 0, seconds: Math.round((Date.now() - t0) / 100) / 10,
  };
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  if (!existsSync(FILE) || process.env.PROBECTL_CLUSTER_TABLE_STARTED !== FILE) {
    process.env.PROBECTL_CLUSTER_TABLE_STARTED = FILE;
    writeFileSync(FILE, [
      `Cluster scenarios (Temporal server 1.29.1 on Postgres, 3 workers, 2 API replicas), mode ${CLUSTER_MODE}, ${new Date().toISOString()}.`,
      'Counts are distinct objects at the doubles: expected/present/duplicated/lost. Chat posts are at-least-once: their "duplicated" is reported, not a failure.',
      '',
      '| scenario | injected | incidents | alerts | tickets | chat posts | resolutions lost | unsettled | s |',
      '|---|---|---:|---|---|---|---:|---:|---:|',
      '',
    ].join('\n'));
  }
  appendFileSync(FILE, `${row(r)}\n`);
  process.stdout.write(`[cluster] ${row(r)}\n`);
  return r;
}
