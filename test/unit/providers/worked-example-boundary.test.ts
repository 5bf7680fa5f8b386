/**
 * The worked example of docs/architecture.md ("Adding a provider") is one folder plus one registry line: deleting
 * test/fixtures/providers/echo/ and its line in test/fixtures/providers/registry.ts must leave `tsc` and every other
 * test as they were. That holds while nothing outside the folder imports it, and nothing outside the test-only
 * providers' own files imports their registry or admit hook (admitting Echo changes what the API's schemas
 * accept). Every module import of every TypeScript file the project type-checks is resolved here the way tsc
 * resolves it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '..', '..', '..');
const FIXTURES = 'test/fixtures/providers/';
const EXAMPLE = `${FIXTURES}echo/`;

function walk(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : walk(path);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every (importer, imported) pair of project files, both relative to the root. */
function projectImports(): Array<[string, string]> {
  const options = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!.options;
  const pairs: Array<[string, string]> = [];
  for (const file of ['src', 'dev', 'test', 'bench', 'scripts'].flatMap(walk)) {
    const abs = join(ROOT, file);
    for (const { fileName } of ts.preProcessFile(readFileSync(abs, 'utf8'), true, true).importedFiles) {
      const resolved = ts.resolveModuleName(fileName, abs, options, ts.sys).resolvedModule;
      if (resolved && !resolved.isExternalLibraryImport) pairs.push([file, relative(ROOT, resolved.resolvedFileName).split(sep).join('/')]);
    }
  }
  return pairs;
}

describe('the worked example provider can be deleted with its one registry line', () => {
  const pairs = projectImports();

  test('the scan sees the example and the files that use it (it can fail)', () => {
    expect(pairs.some(([from, to]) => from === `${FIXTURES}registry.ts` && to === `${EXAMPLE}index.ts`)).toBe(true);
    expect(pairs.some(([from, to]) => from === `${EXAMPLE}echo.test.ts` && to === `${FIXTURES}admit.ts`)).toBe(true);
  });

  test('nothing outside the example folder imports it, except the registry line', () => {
    const outside = pairs.filter(([from, to]) => to.startsWith(EXAMPLE) && !from.startsWith(EXAMPLE) && from !== `${FIXTURES}registry.ts`);
    expect(outside).toEqual([]);
  });

  test('only the test-only providers\' own files import their registry or admit hook', () => {
    const outside = pairs.filter(([from, to]) => to.startsWith(FIXTURES) && !from.startsWith(FIXTURES));
    expect(outside).toEqual([]);
  });

  test('the registry names the example on one import line and one list line', () => {
    const lines = readFileSync(join(ROOT, FIXTURES, 'registry.ts'), 'utf8').split('\n').filter((l) => /\becho\b/.test(l) && !l.trim().startsWith('*'));
    expect(lines.map((l) => l.trim())).toEqual(["import { echo } from './echo';", 'echo,']);
  });
});
