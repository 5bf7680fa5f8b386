/**
 * The product ships without its workshop: what `npm run build` compiles (tsconfig.build.json → dist/, the
 * container image) is src/ only, and src/ never reaches into dev/ (the provider doubles, the demo, the
 * Temporal dev-server starter), test/ or bench/. A double or the demo back in src/, or an import of dev/
 * from src/, fails here.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '..', '..');

/**
 * The project files `tsc -p tsconfig.build.json` compiles (what `--listFilesOnly` prints, less node_modules):
 * its root files and every relative module they import, transitively, resolved the way tsc resolves them.
 * (A full ts.createProgram parses every library declaration too and takes seconds longer.)
 */
function buildProgramFiles(): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.build.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error('tsconfig.build.json did not parse');
  const seen = new Set<string>();
  const queue = [...parsed.fileNames];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      const resolved = ts.resolveModuleName(fileName, file, parsed.options, ts.sys).resolvedModule;
      if (resolved && !resolved.isExternalLibraryImport) queue.push(resolved.resolvedFileName);
    }
  }
  return [...seen].map((f) => relative(ROOT, f).split(sep).join('/'));
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('the service build holds no workshop', () => {
  const files = buildProgramFiles();

  it('compiles only files under src/', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((f) => !f.startsWith('src/'))).toEqual([]);
    expect(files).toContain('src/main.ts');
    // the embedded database is documented for the service (`npm start` without DATABASE_URL)
    expect(files).toContain('src/runtime/embedded-db.ts');
  });

  it('has no provider doubles, demo or dev-server starter', () => {
    expect(files.filter((f) => /\/(sandbox|demo|doubles)\/|dev-server/.test(f))).toEqual([]);
  });

  it('no src/ file names a path into dev/, test/ or bench/ (import, export, require or import())', () => {
    const offenders = walk(join(ROOT, 'src'))
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => {
        const text = readFileSync(f, 'utf8');
        return [...text.matchAll(/['"`]((?:\.\.\/)+(?:dev|test|bench)(?:\/[^'"`]*)?)['"`]/g)].map((m) => `${relative(ROOT, f)}: ${m[1]}`);
      });
    expect(offenders).toEqual([]);
  });

  it('the image copies src/ only (no dev/)', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^COPY src \.\/src$/m);
    expect(dockerfile).not.toMatch(/^COPY\s+(\S+\s+)*dev\b/m);
    // Every COPY names what it copies: no whole-context copy, and the build context leaves the workshop out.
    expect(dockerfile).not.toMatch(/^COPY\s+(--\S+\s+)*\.\/?\s/m);
    const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const dir of ['dev', 'test', 'bench', 'docs', 'examples', 'dist-dev']) expect(dockerignore).toContain(dir);
  });
});
