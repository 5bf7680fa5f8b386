/**
 * Builds of the workflow code with deliberate changes: the replay guard's teeth (test/replay/replay.test.ts) and an
 * older worker during a rolling deploy (test/workflow/begin-in-input.test.ts).
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { DefaultLogger, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

const ROOT = join(__dirname, '..', '..');

/**
 * A copy of the workflow code (the whole src/workflows tree) with `edits` applied to the named files (paths
 * relative to src/workflows), imports that leave the tree pointed back at src, bundled as a whole workflow
 * module. Throws if an edit's anchor is gone (update this test with the workflow).
 */
export async function bundleModified(dir: string, edits: Record<string, (source: string) => string>): Promise<WorkflowBundleWithSourceMap> {
  const srcDir = join(ROOT, 'src');
  const wfDir = join(srcDir, 'workflows');
  const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));
  const applied = new Set<string>();
  for (const file of files(wfDir)) {
    const rel = relative(wfDir, file);
    let text = readFileSync(file, 'utf8');
    const edit = edits[rel];
    if (edit) {
      const edited = edit(text);
      if (edited === text) throw new Error(`the deliberate change did not apply: its anchor is no longer in src/workflows/${rel}`);
      text = edited;
      applied.add(rel);
    }
    // Relative imports that leave src/workflows point back at the original files.
    text = text.replace(/from '(\.{1,2}\/[^']+)'/g, (m, spec: string) => {
      const target = resolve(dirname(file), spec);
      return target.startsWith(`${wfDir}/`) ? m : `from '${target}'`;
    });
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  const missing = Object.keys(edits).filter((f) => !applied.has(f));
  if (missing.length > 0) throw new Error(`no such workflow file to edit: ${missing.join(', ')}`);
  return bundleWorkflowCode({ workflowsPath: join(dir, 'index.ts'), logger: new DefaultLogger('WARN') });
}

