/**
 * The SHA-256 manifest of the recorded histories (test/replay/histories-manifest.ts): the committed recordings match
 * it byte for byte, and it is append-only in git history and in the working tree. The rest proves the checks have
 * teeth, on throwaway folders and repositories — among them the audit's case: a committed recording edited in place
 * and hidden from git with `git update-index --skip-worktree`, which the git-based check (append-only.ts) cannot see.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendOnlyViolations } from './append-only';
import { throwawayGit } from './throwaway-git';
import {
  HISTORIES_DIR, MANIFEST, MANIFEST_PATH, appendToManifest, filesUnder, manifestAppendViolations, manifestProblems, parseManifest, sha256,
} from './histories-manifest';

const ROOT = join(__dirname, '..', '..');

describe('the recorded histories\' manifest (this repository)', () => {
  test('every file under test/histories/ is listed with its SHA-256, each once, and nothing listed is missing', () => {
    expect(manifestProblems(HISTORIES_DIR, readFileSync(MANIFEST, 'utf8'))).toEqual([]);
    expect(parseManifest(readFileSync(MANIFEST, 'utf8')).entries.length).toBe(filesUnder(HISTORIES_DIR).length);
  });

  test('the manifest is append-only: no commit changed, moved or removed a line of it, nor does the working tree', () => {
    expect(manifestAppendViolations({ repo: ROOT, manifest: MANIFEST_PATH })).toEqual([]);
  });
});

describe('the manifest check has teeth (throwaway folders)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'manifest-'));
    mkdirSync(join(dir, 'histories', 'patch-v1'), { recursive: true });
    writeFileSync(join(dir, 'histories', 'plain-resolve.json'), '{"events":[1]}\n');
    writeFileSync(join(dir, 'histories', 'patch-v1', 'plain-resolve.json'), '{"events":[2]}\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const manifestFile = () => join(dir, 'histories.sha256');
  const listAll = () => appendToManifest(manifestFile(), join(dir, 'histories'), filesUnder(join(dir, 'histories')).map((f) => join(dir, 'histories', f)));
  const problems = () => manifestProblems(join(dir, 'histories'), readFileSync(manifestFile(), 'utf8'));

  test('the recorder\'s append lists new files in sha256sum form; a file listed already is refused', () => {
    listAll();
    expect(readFileSync(manifestFile(), 'utf8')).toBe(`${sha256('{"events":[2]}\n')}  patch-v1/plain-resolve.json\n${sha256('{"events":[1]}\n')}  plain-resolve.json\n`);
    expect(problems()).toEqual([]);
    writeFileSync(join(dir, 'histories', 'redrive.json'), '{"events":[3]}\n');
    appendToManifest(manifestFile(), join(dir, 'histories'), [join(dir, 'histories', 'redrive.json')]);
    expect(problems()).toEqual([]);
    expect(() => appendToManifest(manifestFile(), join(dir, 'histories'), [join(dir, 'histories', 'redrive.json')])).toThrow(/redrive.json is in the manifest already/);
  });

  test('a recording changed in place, one not listed, one listed but missing: each reported, naming the file', () => {
    listAll();
    writeFileSync(join(dir, 'histories', 'plain-resolve.json'), '{"events":[1,"edited"]}\n');
    writeFileSync(join(dir, 'histories', 'patch-v1', 'new.json'), '{}\n');
    unlinkSync(join(dir, 'histories', 'patch-v1', 'plain-resolve.json'));
    expect(problems()).toEqual([
      'patch-v1/new.json is not in the manifest (a new recording adds its line: test/replay/record-histories.ts)',
      'plain-resolve.json does not match its SHA-256 in the manifest: the recording was changed',
      'patch-v1/plain-resolve.json is in the manifest but missing from test/histories/',
    ]);
  });

  test('a manifest of the wrong form: a malformed line, a path listed twice, a path outside the folder, no final newline', () => {
    const h = sha256('x');
    const { problems: p } = parseManifest(`${h}  a.json\n${h} b.json\n${h}  a.json\n${h}  ../c.json\n${h}  d.json`);
    expect(p).toEqual([
      'the manifest does not end with a newline',
      expect.stringMatching(/^line 2 is not "<sha256> {2}<path>"/),
      'line 3: a.json is listed again (first on line 1)',
      'line 4: ../c.json is not a path under test/histories/',
    ]);
  });
});

describe('the manifest is append-only in git (throwaway repositories)', () => {
  const { dirs, env, git, write, commit, cleanup } = throwawayGit();
  afterAll(cleanup);
  const line = (name: string) => `${sha256(name)}  ${name}.json\n`;
  /** A repository with two recordings listed in the manifest, and the append-only guard's marker. */
  const repoWith = () => {
    const repo = mkdtempSync(join(tmpdir(), 'manifest-git-'));
    dirs.push(repo);
    git(repo, 'init', '-q', '-b', 'main');
    write(repo, 'test/replay/histories-append-only.test.ts', '// the guard\n');
    write(repo, 'test/histories/a.json', 'a');
    write(repo, 'test/histories/b.json', 'b');
    write(repo, MANIFEST_PATH, line('a') + line('b'));
    commit(repo, 'record a and b, with the manifest');
    return repo;
  };
  const check = (repo: string) => manifestAppendViolations({ repo, manifest: MANIFEST_PATH });
  const manifestOf = (repo: string) => readFileSync(join(repo, MANIFEST_PATH), 'utf8');

  test('appending, in commits and in the working tree, passes; so does a merge of two branches that each appended', () => {
    const repo = repoWith();
    write(repo, MANIFEST_PATH, manifestOf(repo) + line('c'));
    commit(repo, 'record c');
    git(repo, 'checkout', '-q', '-b', 'side');
    write(repo, MANIFEST_PATH, manifestOf(repo) + line('d'));
    commit(repo, 'record d');
    git(repo, 'checkout', '-q', 'main');
    write(repo, MANIFEST_PATH, manifestOf(repo) + line('e'));
    commit(repo, 'record e');
    try {
      git(repo, 'merge', '-q', '--no-ff', '--no-commit', 'side');
    } catch {
      // both appended at the end: a conflict, resolved by keeping both lines
    }
    write(repo, MANIFEST_PATH, line('a') + line('b') + line('c') + line('e') + line('d'));
    commit(repo, 'merge side');
    write(repo, MANIFEST_PATH, manifestOf(repo) + line('f'));
    expect(check(repo)).toEqual([]);
  });

  test('a commit that changes, moves or removes a line is reported, naming the commit', () => {
    const changed = repoWith();
    write(changed, MANIFEST_PATH, `${sha256('a2')}  a.json\n${line('b')}`);
    commit(changed, 'rehash a');
    expect(check(changed)).toEqual([expect.stringMatching(/^[0-9a-f]{7,} rehash a: line 1 changed or removed \(a\.json\)$/)]);
    const moved = repoWith();
    write(moved, MANIFEST_PATH, line('b') + line('a'));
    commit(moved, 'sort differently');
    expect(check(moved)).toEqual([expect.stringMatching(/ sort differently: line 1 moved \(a\.json\)$/)]);
    const removed = repoWith();
    write(removed, MANIFEST_PATH, line('a'));
    commit(removed, 'drop b');
    expect(check(removed)).toEqual([expect.stringMatching(/ drop b: line 2 changed or removed \(b\.json\)$/)]);
    const deleted = repoWith();
    git(deleted, 'rm', '-q', MANIFEST_PATH);
    commit(deleted, 'no manifest');
    expect(check(deleted)).toEqual([expect.stringMatching(/ no manifest: deleted test\/replay\/histories\.sha256$/)]);
  });

  test('a merge that loses a parent\'s line is reported', () => {
    const repo = repoWith();
    git(repo, 'checkout', '-q', '-b', 'side');
    write(repo, MANIFEST_PATH, manifestOf(repo) + line('d'));
    commit(repo, 'record d');
    git(repo, 'checkout', '-q', 'main');
    write(repo, 'README.md', 'main moved on\n');
    commit(repo, 'readme');
    git(repo, 'merge', '-q', '--no-ff', '--no-commit', 'side');
    write(repo, MANIFEST_PATH, line('a') + line('b'));
    commit(repo, 'merge side');
    expect(check(repo)).toEqual([expect.stringMatching(/ merge side \(merge\): 1 line\(s\) of parent [0-9a-f]{7} changed or removed \(first: d\.json\)$/)]);
  });

  test('the audit\'s case: a recording edited in place and hidden with --skip-worktree passes the git check but not the manifest; editing the manifest too and hiding it is still caught', () => {
    const repo = repoWith();
    write(repo, 'test/histories/a.json', 'a, edited');
    git(repo, 'update-index', '--skip-worktree', 'test/histories/a.json');
    // What git sees: nothing (the audit's finding).
    expect(appendOnlyViolations({ repo, histories: 'test/histories', marker: 'test/replay/histories-append-only.test.ts' })).toEqual([]);
    // What the bytes say.
    expect(manifestProblems(join(repo, 'test/histories'), manifestOf(repo))).toEqual(['a.json does not match its SHA-256 in the manifest: the recording was changed']);
    // The manifest's line changed to match, and hidden the same way (or with --assume-unchanged): compared with HEAD's copy in git's objects.
    write(repo, MANIFEST_PATH, `${sha256('a, edited')}  a.json\n${line('b')}`);
    git(repo, 'update-index', '--skip-worktree', MANIFEST_PATH);
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(manifestProblems(join(repo, 'test/histories'), manifestOf(repo))).toEqual([]);
    expect(check(repo)).toEqual(['working tree (not committed): line 1 changed or removed (a.json)']);
    git(repo, 'update-index', '--no-skip-worktree', MANIFEST_PATH);
    git(repo, 'update-index', '--assume-unchanged', MANIFEST_PATH);
    expect(check(repo)).toEqual(['working tree (not committed): line 1 changed or removed (a.json)']);
  });

  test('a manifest not committed yet (HEAD has none) passes; a shallow clone or a missing git fails with a clear message', () => {
    const repo = mkdtempSync(join(tmpdir(), 'manifest-git-'));
    dirs.push(repo);
    git(repo, 'init', '-q', '-b', 'main');
    write(repo, 'README.md', 'x\n');
    commit(repo, 'first');
    write(repo, MANIFEST_PATH, line('a'));
    expect(check(repo)).toEqual([]);
    const full = repoWith();
    write(full, MANIFEST_PATH, manifestOf(full) + line('c'));
    commit(full, 'record c');
    const shallow = mkdtempSync(join(tmpdir(), 'manifest-shallow-'));
    dirs.push(shallow);
    execFileSync('git', ['clone', '-q', '--depth', '1', `file://${full}`, shallow], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(() => check(shallow)).toThrow(/shallow.*needs the full history/);
    expect(() => manifestAppendViolations({ repo: full, manifest: MANIFEST_PATH, git: 'git-that-does-not-exist' })).toThrow(/git is missing/);
    // A fresh full clone (as CI makes) passes.
    const clone = mkdtempSync(join(tmpdir(), 'manifest-clone-'));
    dirs.push(clone);
    execFileSync('git', ['clone', '-q', `file://${full}`, clone], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(check(clone)).toEqual([]);
    expect(manifestProblems(join(clone, 'test/histories'), manifestOf(clone))).toEqual(['c.json is in the manifest but missing from test/histories/']);
  });
});
