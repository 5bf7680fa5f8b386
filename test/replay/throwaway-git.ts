/**
 * Throwaway git repositories for the append-only checks' teeth (histories-append-only.test.ts,
 * histories-manifest.test.ts): isolated from the machine's git configuration, with a fixed identity. `dirs` collects
 * the folders a test made; `cleanup` removes them (call it from afterAll).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function throwawayGit() {
  const dirs: string[] = [];
  const env = {
    ...process.env,
    GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Recorder', GIT_AUTHOR_EMAIL: 'recorder@example.invalid', GIT_COMMITTER_NAME: 'Recorder', GIT_COMMITTER_EMAIL: 'recorder@example.invalid',
  };
  const git = (repo: string, ...args: string[]) => execFileSync('git', ['-C', repo, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const write = (repo: string, file: string, text: string) => {
    mkdirSync(dirname(join(repo, file)), { recursive: true });
    writeFileSync(join(repo, file), text);
  };
  const commit = (repo: string, message: string) => {
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '--no-gpg-sign', '-m', message);
  };
  const cleanup = () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  return { dirs, env, git, write, commit, cleanup };
}
