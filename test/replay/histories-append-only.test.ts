/**
 * Recorded histories are append-only (docs/workflow-contract.md, "Changing workflow code safely"): since the
 * commit that added this file, no commit modifies, renames or deletes a file under test/histories/, and the
 * working tree has no such change either. A changed behaviour gets a new patch id and new recordings instead.
 * Needs git and the full history: a shallow clone or a missing git fails here, it never skips. The second part
 * proves the check has teeth on throwaway repositories.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendOnlyViolations } from './append-only';
import { throwawayGit } from './throwaway-git';

const ROOT = join(__dirname, '..', '..');
const HISTORIES = 'test/histories';
const MARKER = 'test/replay/histories-append-only.test.ts';

describe('recorded histories are append-only', () => {
  test('since this guard was committed, test/histories/ has only been added to (commits and working tree)', () => {
    expect(appendOnlyViolations({ repo: ROOT, histories: HISTORIES, marker: MARKER })).toEqual([]);
  });
});

describe('the append-only check has teeth (throwaway repositories)', () => {
  const { dirs, env, git, write, commit, cleanup } = throwawayGit();
  afterAll(cleanup);
  /** A repository with one recording committed, then the guard marker committed. */
  const guarded = (opts: { beforeGuard?: (repo: string) => void } = {}) => {
    const repo = mkdtempSync(join(tmpdir(), 'append-only-'));
    dirs.push(repo);
    git(repo, 'init', '-q', '-b', 'main');
    write(repo, `${HISTORIES}/plain-resolve.json`, '{"events":[1]}\n');
    commit(repo, 'record plain-resolve');
    opts.beforeGuard?.(repo);
    write(repo, MARKER, '// the guard\n');
    commit(repo, 'add the append-only guard');
    return repo;
  };
  const check = (repo: string) => appendOnlyViolations({ repo, histories: HISTORIES, marker: MARKER });

  test('a commit after the guard that modifies a recording is reported, naming the file', () => {
    const repo = guarded();
    write(repo, `${HISTORIES}/plain-resolve.json`, '{"events":[1,2]}\n');
    commit(repo, 're-record plain-resolve');
    const v = check(repo);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatch(/^[0-9a-f]{7,} re-record plain-resolve: modified test\/histories\/plain-resolve\.json$/);
  });

  test('renames and deletions are reported too, also a move into a folder', () => {
    const repo = guarded();
    write(repo, `${HISTORIES}/redrive.json`, '{"events":[3]}\n');
    commit(repo, 'record redrive');
    mkdirSync(join(repo, HISTORIES, 'before-x'));
    renameSync(join(repo, HISTORIES, 'plain-resolve.json'), join(repo, HISTORIES, 'before-x', 'plain-resolve.json'));
    commit(repo, 'move plain-resolve');
    unlinkSync(join(repo, HISTORIES, 'redrive.json'));
    commit(repo, 'drop redrive');
    expect(check(repo)).toEqual([
      expect.stringMatching(/ drop redrive: deleted test\/histories\/redrive\.json$/),
      expect.stringMatching(/ move plain-resolve: renamed test\/histories\/plain-resolve\.json -> test\/histories\/before-x\/plain-resolve\.json$/),
    ]);
  });

  test('a merge that changes a recording itself is reported', () => {
    const repo = guarded();
    git(repo, 'checkout', '-q', '-b', 'side');
    write(repo, `${HISTORIES}/acknowledge.json`, '{"events":[4]}\n');
    commit(repo, 'record acknowledge');
    git(repo, 'checkout', '-q', 'main');
    write(repo, 'README.md', 'main moved on\n');
    commit(repo, 'readme');
    git(repo, 'merge', '-q', '--no-ff', '--no-commit', 'side');
    write(repo, `${HISTORIES}/plain-resolve.json`, '{"events":["edited in the merge"]}\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '--no-gpg-sign', '-m', 'merge side');
    expect(check(repo)).toEqual([expect.stringMatching(/ merge side \(merge\): modified test\/histories\/plain-resolve\.json$/)]);
  });

  test('an uncommitted change to a tracked recording is reported; an untracked or staged new one is not', () => {
    const repo = guarded();
    write(repo, `${HISTORIES}/new-one.json`, '{}\n'); // untracked
    write(repo, `${HISTORIES}/staged-one.json`, '{}\n');
    git(repo, 'add', `${HISTORIES}/staged-one.json`);
    expect(check(repo)).toEqual([]);
    write(repo, `${HISTORIES}/plain-resolve.json`, '{"events":[]}\n');
    expect(check(repo)).toEqual(['working tree (not committed): modified test/histories/plain-resolve.json']);
    unlinkSync(join(repo, HISTORIES, 'plain-resolve.json'));
    expect(check(repo)).toEqual(['working tree (not committed): deleted test/histories/plain-resolve.json']);
  });

  test('an add-only history passes, including changes made before the guard existed', () => {
    const repo = guarded({
      beforeGuard: (r) => {
        write(r, `${HISTORIES}/plain-resolve.json`, '{"events":[1,"re-recorded before the rule"]}\n');
        commit(r, 're-record before the guard');
      },
    });
    write(repo, `${HISTORIES}/redrive.json`, '{"events":[3]}\n');
    commit(repo, 'record redrive');
    write(repo, `${HISTORIES}/second-resolve-v2/plain-resolve.json`, '{"events":[5]}\n');
    write(repo, 'src/workflow.ts', '// patched\n');
    commit(repo, 'patch second-resolve-v2 with new recordings');
    expect(check(repo)).toEqual([]);
  });

  test('a shallow clone, a missing git, or an uncommitted guard fail with a clear message instead of passing', () => {
    const repo = guarded();
    write(repo, `${HISTORIES}/redrive.json`, '{}\n');
    commit(repo, 'record redrive');
    const shallow = mkdtempSync(join(tmpdir(), 'append-only-shallow-'));
    dirs.push(shallow);
    execFileSync('git', ['clone', '-q', '--depth', '1', `file://${repo}`, shallow], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(() => check(shallow)).toThrow(/shallow.*needs the full history/);
    expect(() => appendOnlyViolations({ repo, histories: HISTORIES, marker: MARKER, git: 'git-that-does-not-exist' })).toThrow(/git is missing/);
    expect(() => appendOnlyViolations({ repo, histories: HISTORIES, marker: 'test/replay/not-committed.test.ts' })).toThrow(/not committed/);
    const plain = mkdtempSync(join(tmpdir(), 'append-only-nogit-'));
    dirs.push(plain);
    expect(() => check(plain)).toThrow(/not a git work tree|failed/);
  });
});
