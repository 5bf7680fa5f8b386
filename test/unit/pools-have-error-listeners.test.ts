/**
 * Every Postgres pool is built by createPool (src/db/pool.ts), which listens for 'error': an idle client whose
 * backend is terminated (a failover, `DROP DATABASE … WITH (FORCE)` while a pool is still closing) makes the pool
 * emit 'error', and without a listener that crashes the process (it once failed a whole test file). A raw
 * `new Pool(` anywhere else in the project fails here.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function walk(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : walk(path);
    return /\.(ts|js)$/.test(e.name) ? [path] : [];
  });
}

test('only createPool builds a pg Pool', () => {
  const files = ['src', 'dev', 'test', 'bench', 'scripts'].flatMap(walk);
  expect(files).toContain('src/db/pool.ts');
  const raw = files.filter((f) => f !== 'src/db/pool.ts' && f !== 'test/unit/pools-have-error-listeners.test.ts' && /new Pool\(/.test(readFileSync(join(ROOT, f), 'utf8')));
  expect(raw).toEqual([]);
  expect(readFileSync(join(ROOT, 'src/db/pool.ts'), 'utf8')).toMatch(/pool\.on\('error'/);
});
