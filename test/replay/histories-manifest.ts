/**
 * The SHA-256 manifest of the recorded histories (docs/workflow-contract.md, "Recordings are append-only"):
 * test/replay/histories.sha256 lists every file under test/histories/ as `<sha256>  <path under test/histories/>`
 * (the `sha256sum` format: `cd test/histories && sha256sum -c ../replay/histories.sha256` checks it too), one line per
 * file, in the order the files were added. The replay suite checks the files against it by their bytes — not by what
 * git says changed, which `git update-index --skip-worktree` (or `--assume-unchanged`) hides — and the manifest itself
 * is append-only: against git history (every commit since it exists) and against HEAD's copy (the working tree), its
 * existing lines never change, move or disappear. The recorder (record-histories.ts) appends the line of each file it
 * writes. Reads files and git only; changes nothing but what `appendToManifest` appends.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const ROOT = join(__dirname, '..', '..');
/** The recordings. */
export const HISTORIES_DIR = join(ROOT, 'test', 'histories');
/** The manifest (outside test/histories/, so that appending to it is not a change of a recording). */
export const MANIFEST = join(ROOT, 'test', 'replay', 'histories.sha256');
/** The manifest's path in the repository. */
export const MANIFEST_PATH = 'test/replay/histories.sha256';

const LINE = /^([0-9a-f]{64}) {2}(\S(?:.*\S)?)$/;

export interface ManifestEntry {
  hash: string;
  /** Relative to test/histories/, with `/` separators. */
  path: string;
}

export const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** The entries of a manifest's text, and what is wrong with its form (a line that is not `<hash>  <path>`, a path listed twice, no final newline). */
export function parseManifest(text: string): { entries: ManifestEntry[]; problems: string[] } {
  const problems: string[] = [];
  const entries: ManifestEntry[] = [];
  if (text.length > 0 && !text.endsWith('\n')) problems.push('the manifest does not end with a newline');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const seen = new Map<string, number>();
  for (const [i, line] of lines.entries()) {
    const m = LINE.exec(line);
    if (!m) {
      problems.push(`line ${i + 1} is not "<sha256>  <path>": ${JSON.stringify(line.slice(0, 120))}`);
      continue;
    }
    const path = m[2]!;
    if (path.startsWith('/') || path.split('/').some((p) => p === '..' || p === '.' || p === '')) problems.push(`line ${i + 1}: ${path} is not a path under test/histories/`);
    const before = seen.get(path);
    if (before !== undefined) problems.push(`line ${i + 1}: ${path} is listed again (first on line ${before})`);
    else seen.set(path, i + 1);
    entries.push({ hash: m[1]!, path });
  }
  return { entries, problems };
}

/** Every file under `dir` (folders included), relative to it with `/` separators, sorted. */
export function filesUnder(dir: string, sub = ''): string[] {
  return readdirSync(join(dir, sub)).sort().flatMap((f) => {
    const rel = sub === '' ? f : `${sub}/${f}`;
    return statSync(join(dir, rel)).isDirectory() ? filesUnder(dir, rel) : [rel];
  });
}

/**
 * What does not match between the recordings and the manifest (empty when all is well): a file not listed, a file
 * whose SHA-256 is not the listed one, a listed file that is missing, and the manifest's own form.
 */
export function manifestProblems(historiesDir: string, manifestText: string): string[] {
  const { entries, problems } = parseManifest(manifestText);
  const listed = new Map(entries.map((e) => [e.path, e.hash]));
  const files = filesUnder(historiesDir);
  for (const f of files) {
    const hash = listed.get(f);
    if (hash === undefined) problems.push(`${f} is not in the manifest (a new recording adds its line: test/replay/record-histories.ts)`);
    else if (sha256(readFileSync(join(historiesDir, f))) !== hash) problems.push(`${f} does not match its SHA-256 in the manifest: the recording was changed`);
  }
  const present = new Set(files);
  for (const e of entries) if (!present.has(e.path)) problems.push(`${e.path} is in the manifest but missing from test/histories/`);
  return problems;
}

/** The manifest's hash of one recording (`path` under test/histories/); throws when it is not listed. */
export function listedHash(manifestText: string, path: string): string {
  const hash = parseManifest(manifestText).entries.find((e) => e.path === path)?.hash;
  if (hash === undefined) throw new Error(`${path} is not in the manifest ${MANIFEST_PATH}`);
  return hash;
}

/** Appends the lines of newly written recordings (absolute paths under `historiesDir`); refuses a path listed already. */
export function appendToManifest(manifestFile: string, historiesDir: string, files: readonly string[]): void {
  const text = existsSync(manifestFile) ? readFileSync(manifestFile, 'utf8') : '';
  const { entries } = parseManifest(text);
  const lines = files.map((file) => {
    const path = relative(historiesDir, file).split(sep).join('/');
    if (path.startsWith('..')) throw new Error(`${file} is not under ${historiesDir}`);
    if (entries.some((e) => e.path === path)) throw new Error(`${path} is in the manifest already: recordings are append-only`);
    return `${sha256(readFileSync(file))}  ${path}\n`;
  });
  appendFileSync(manifestFile, `${text.length > 0 && !text.endsWith('\n') ? '\n' : ''}${lines.join('')}`);
}

// ---- the manifest is append-only (git) ------------------------------------------------------------------------

export interface ManifestHistoryOptions {
  /** A directory inside the repository. */
  repo: string;
  /** The manifest's path relative to the repository root. */
  manifest: string;
  git?: string;
}

function gitOf(opts: ManifestHistoryOptions) {
  const bin = opts.git ?? 'git';
  return (args: string[], input?: string): string => {
    try {
      return execFileSync(bin, ['-C', opts.repo, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') throw new Error(`git is missing (${bin} not found): the append-only check of ${opts.manifest} needs git and the full history`);
      throw new Error(`git ${args.join(' ')} failed in ${opts.repo}: ${(e.stderr ?? e.message).trim()}`);
    }
  };
}

const linesOf = (text: string): string[] => {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
};

/** `next` only appends to `prev` (a prefix); else the first line of `prev` that changed or went, described. */
function appendOnly(prev: string[], next: string[]): string | undefined {
  for (const [i, line] of prev.entries()) {
    if (next[i] === line) continue;
    return next.includes(line) ? `line ${i + 1} moved (${line.slice(66)})` : `line ${i + 1} changed or removed (${line.slice(66) || line.slice(0, 80)})`;
  }
  return undefined;
}

/**
 * What broke the manifest's append-only rule (empty when nothing did): every commit reachable from HEAD whose manifest
 * differs from a parent's — an ordinary commit may only append lines, a merge must keep every line of every parent
 * (in any order of what the parents appended) — and the working tree against HEAD's copy, read from git's objects (so a
 * file git is told to ignore, `--skip-worktree` or `--assume-unchanged`, is still compared). Throws when the check
 * cannot be made: git missing, not a repository, a shallow clone.
 */
export function manifestAppendViolations(opts: ManifestHistoryOptions): string[] {
  const git = gitOf(opts);
  if (git(['rev-parse', '--is-inside-work-tree']).trim() !== 'true') throw new Error(`${opts.repo} is not a git work tree`);
  if (git(['rev-parse', '--is-shallow-repository']).trim() !== 'false') {
    throw new Error(`this clone is shallow: the append-only check of ${opts.manifest} needs the full history (git fetch --unshallow, or clone without --depth)`);
  }
  const top = git(['rev-parse', '--show-toplevel']).trim();
  const violations: string[] = [];
  let hasHead = true;
  try {
    git(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  } catch {
    hasHead = false; // a repository without a commit yet
  }
  const revs = hasHead ? git(['rev-list', '--parents', 'HEAD']).trim().split('\n').filter(Boolean).map((l) => l.split(' ')) : [];
  // The manifest's blob in every commit, in one call (`<blob> blob <size>`, or `<commit>:<path> missing`).
  const commits = revs.map((r) => r[0]!);
  const checked = commits.length > 0 ? git(['cat-file', '--batch-check'], commits.map((c) => `${c}:${opts.manifest}\n`).join('')).trim().split('\n') : [];
  const blobOf = new Map(commits.map((c, i) => [c, /^([0-9a-f]{40,64}) blob /.exec(checked[i] ?? '')?.[1]]));
  const texts = new Map<string, string[]>();
  const text = (blob: string) => {
    let t = texts.get(blob);
    if (!t) texts.set(blob, (t = linesOf(git(['cat-file', 'blob', blob]))));
    return t;
  };
  for (const [commit, ...parents] of revs) {
    const blob = blobOf.get(commit!);
    if (!blob) {
      // Deleted (or never there) after a parent that had it.
      const had = parents.filter((p) => blobOf.get(p));
      if (had.length > 0) violations.push(`${describe(git, commit!)}: deleted ${opts.manifest}`);
      continue;
    }
    const mine = text(blob);
    const own = parseManifest(`${mine.join('\n')}${mine.length > 0 ? '\n' : ''}`).problems.filter((p) => /listed again/.test(p));
    for (const p of own) violations.push(`${describe(git, commit!)}: ${p}`);
    for (const parent of parents) {
      const pb = blobOf.get(parent);
      if (!pb || pb === blob) continue;
      const prev = text(pb);
      if (parents.length === 1) {
        const broke = appendOnly(prev, mine);
        if (broke) violations.push(`${describe(git, commit!)}: ${broke}`);
      } else {
        const kept = new Set(mine);
        const lost = prev.filter((l) => !kept.has(l));
        if (lost.length > 0) violations.push(`${describe(git, commit!)} (merge): ${lost.length} line(s) of parent ${parent.slice(0, 7)} changed or removed (first: ${lost[0]!.slice(66)})`);
      }
    }
  }
  // The working tree against HEAD's copy, read from git's objects (not the index: a skip-worktree flag hides nothing here).
  const headBlob = hasHead ? blobOf.get(commits[0]!) : undefined;
  const file = join(top, opts.manifest);
  if (headBlob) {
    if (!existsSync(file)) violations.push(`working tree (not committed): deleted ${opts.manifest}`);
    else {
      const broke = appendOnly(text(headBlob), linesOf(readFileSync(file, 'utf8')));
      if (broke) violations.push(`working tree (not committed): ${broke}`);
    }
  }
  return violations;
}

function describe(git: (args: string[]) => string, commit: string): string {
  return git(['log', '-1', '--format=%h %s', commit]).trim();
}
