/**
 * The append-only rule for recorded histories (docs/workflow-contract.md, "Changing workflow code safely"):
 * once the guard (`marker`, the test that enforces it) is committed, files under `histories` are only ever
 * added. Every commit not already in the history of the commit that introduced the marker is checked, merges
 * included (a merge that changes a file itself), and so is the working tree. Reads git only; changes nothing.
 */
import { execFileSync } from 'node:child_process';

export interface AppendOnlyOptions {
  /** A directory inside the repository to check. */
  repo: string;
  /** The recordings' folder, relative to the repository root (e.g. `test/histories`). */
  histories: string;
  /** The guard's own file, relative to the repository root: the commit that added it starts the rule. */
  marker: string;
  /** The git executable (a test points it elsewhere to prove a missing git fails). */
  git?: string;
}

const WHAT: Record<string, string> = { M: 'modified', D: 'deleted', R: 'renamed', T: 'changed the type of', C: 'copied', U: 'left unmerged' };

function runner(opts: AppendOnlyOptions): (args: string[]) => string {
  const bin = opts.git ?? 'git';
  return (args) => {
    try {
      return execFileSync(bin, ['-C', opts.repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') throw new Error(`git is missing (${bin} not found): the append-only check of ${opts.histories} needs git and the full history`);
      throw new Error(`git ${args.join(' ')} failed in ${opts.repo}: ${(e.stderr ?? e.message).trim()}`);
    }
  };
}

/** `M\tpath`, `R100\told\tnew` (or a merge's combined `MM\tpath`) as a description. */
function describe(line: string): { status: string; text: string } {
  const [status = '', ...paths] = line.split('\t');
  const letters = [...new Set(status.replace(/\d+$/, '').split(''))].filter((l) => l !== 'A');
  const verb = letters.map((l) => WHAT[l] ?? `changed (${l})`).join('/') || 'added';
  return { status, text: `${verb} ${paths.join(' -> ')}` };
}

/** Commits in `range` touching `histories`, parsed from `--name-status` output with a NUL-led header per commit. */
function changesByCommit(out: string): Array<{ commit: string; lines: string[] }> {
  return out.split('\0').slice(1).map((chunk) => {
    const [header = '', ...rest] = chunk.split('\n');
    return { commit: header, lines: rest.map((l) => l.trim()).filter(Boolean) };
  });
}

/**
 * What broke the rule, one line per file and commit (empty when nothing did). Throws, with a message that says
 * why, when the check cannot be made: git missing, not a repository, a shallow clone, or the marker not committed.
 */
export function appendOnlyViolations(opts: AppendOnlyOptions): string[] {
  const git = runner(opts);
  if (git(['rev-parse', '--is-inside-work-tree']).trim() !== 'true') throw new Error(`${opts.repo} is not a git work tree`);
  if (git(['rev-parse', '--is-shallow-repository']).trim() !== 'false') {
    throw new Error(`this clone is shallow: the append-only check of ${opts.histories} needs the full history (git fetch --unshallow, or clone without --depth)`);
  }
  const intro = git(['log', '--diff-filter=A', '--format=%H', '--', opts.marker]).trim().split('\n').filter(Boolean).at(-1);
  if (!intro) throw new Error(`${opts.marker} is not committed: the append-only rule starts with the commit that adds it`);

  const range = `${intro}..HEAD`;
  const header = '--format=%x00%h %s';
  const violations: string[] = [];
  // Ordinary commits: anything but an addition, renames detected.
  const plain = git(['log', '--no-merges', '--full-history', '-M', '--name-status', '--diff-filter=MDRTU', header, range, '--', opts.histories]);
  for (const { commit, lines } of changesByCommit(plain)) for (const l of lines) violations.push(`${commit}: ${describe(l).text}`);
  // Merges: what the merge itself changed (the combined diff leaves out files equal to one parent).
  const merges = git(['log', '--merges', '--full-history', '--cc', '--name-status', header, range, '--', opts.histories]);
  for (const { commit, lines } of changesByCommit(merges)) {
    for (const l of lines) {
      const d = describe(l);
      if (/[^A\d]/.test(d.status)) violations.push(`${commit} (merge): ${d.text}`);
    }
  }
  // The working tree and the index: a tracked recording changed, moved or deleted without a commit yet.
  const local = git(['diff', '-M', '--name-status', 'HEAD', '--', opts.histories]);
  for (const l of local.split('\n').map((x) => x.trim()).filter(Boolean)) {
    const d = describe(l);
    if (d.status !== 'A') violations.push(`working tree (not committed): ${d.text}`);
  }
  return violations;
}
