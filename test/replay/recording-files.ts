/**
 * Where the history recorder (test/replay/record-histories.ts) writes, which lifecycles it records, and the
 * append-only rule for its files: a recording that exists is never overwritten (docs/workflow-contract.md,
 * "Changing workflow code safely").
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A lifecycle name or a folder under test/histories/: a plain file-name word, never a path. */
const NAME = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * The lifecycles named by `only` (comma-separated, RECORD_ONLY), in the order of `all`; every lifecycle
 * when `only` is unset or blank. An unknown name throws, naming the known ones.
 */
export function selectLifecycles(all: readonly string[], only: string | undefined): string[] {
  const wanted = (only ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (wanted.length === 0) return [...all];
  const unknown = wanted.filter((w) => !all.includes(w));
  if (unknown.length > 0) throw new Error(`RECORD_ONLY names unknown lifecycle(s): ${unknown.join(', ')} (known: ${all.join(', ')})`);
  return all.filter((n) => wanted.includes(n));
}

/** The folder a recording goes to: test/histories/ (or a folder under it, RECORD_INTO) or the dry-run folder. */
export function recordingDir(base: string, into: string | undefined): string {
  const sub = (into ?? '').trim();
  if (sub === '') return base;
  if (!NAME.test(sub)) throw new Error(`RECORD_INTO must be one folder name (letters, digits, '.', '_', '-'), got ${JSON.stringify(sub)}`);
  return join(base, sub);
}

/** The file name of run `run` (1-based) of a lifecycle recorded in `runs` runs. */
export function recordingFile(name: string, run: number, runs: number): string {
  return runs === 1 ? `${name}.json` : `${name}.run-${run}.json`;
}

/** Files in `dir` that belong to lifecycle `name` (`name.json`, `name.run-N.json`). */
export function existingRecordings(dir: string, name: string): string[] {
  if (!existsSync(dir)) return [];
  const mine = new RegExp(`^${name.replace(/[.]/g, '\\.')}(?:\\.run-\\d+)?\\.json$`);
  return readdirSync(dir).filter((f) => mine.test(f)).sort();
}

/** Throws, naming every file, when any of the lifecycles already has a recording in `dir`. */
export function refuseOverwrite(dir: string, names: readonly string[]): void {
  const taken = names.flatMap((n) => existingRecordings(dir, n).map((f) => join(dir, f)));
  if (taken.length > 0) {
    throw new Error(
      `recorded histories are append-only: refusing to overwrite ${taken.join(', ')}. ` +
        'Record only new lifecycles (RECORD_ONLY=name,name), or record into a new folder (RECORD_INTO=<patch-id>).',
    );
  }
}

/** Writes a new file; throws naming it when it exists already (never overwrites, even in a race). */
export function writeNewRecording(file: string, text: string): void {
  try {
    writeFileSync(file, text, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`recorded histories are append-only: ${file} exists already; not overwritten`);
    throw err;
  }
}
