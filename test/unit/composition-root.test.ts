/**
 * One composition root per process role (docs/architecture.md): nothing stateful is built at module level in src/,
 * and each long-lived object is built only by its role's factory — the metrics registry by the process (main.ts),
 * the app by the API role (src/runtime/api.ts), the pacer by the worker role (src/worker.ts). A module singleton
 * (`export const metrics = new NotifyMetrics()`, a default `PACER`) or a second place wiring the app fails here.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '..', '..');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const SOURCES = walk(join(ROOT, 'src')).map((f) => ({
  path: relative(ROOT, f).split(sep).join('/'),
  file: ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.ES2022, true),
}));

/** Values without state of their own. */
const VALUE_TYPES = new Set(['WeakSet', 'WeakMap', 'RegExp', 'Error', 'URL', 'TextEncoder', 'TextDecoder', 'Intl.NumberFormat']);

/**
 * Module-level collections that start empty are process state: each one is named here with why it may stay.
 * (A Set or Map built from a literal table is a constant lookup and needs no entry.)
 */
const PROCESS_MEMOS: Record<string, string> = {
  'src/http/scrub.ts new Map<string, Matcher>()': 'a bounded memo of compiled matchers for secret lists (pure: same input, same matcher)',
  'src/api/answer-log.ts new Set<string>()': 'each answer triple appended to the test run\'s answer log once per process',
  'src/providers/jira/connector.ts new Set<string>()': 'the Jira sites found to answer only the classic search (learned from the site, the same for every caller)',
};

/**
 * Every `new X(...)` evaluated when the module loads: at top level, in a class's static initializers, in a function
 * called at once (an IIFE) — not inside a function or method that runs later.
 */
function moduleLevelNews(sf: ts.SourceFile): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isClassLike(node)) {
      for (const m of node.members) {
        const isStatic = ts.canHaveModifiers(m) && ts.getModifiers(m)?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword);
        if (isStatic && ts.isPropertyDeclaration(m) && m.initializer) visit(m.initializer);
        if (ts.isClassStaticBlockDeclaration(m)) ts.forEachChild(m.body, visit);
      }
      return;
    }
    if (ts.isCallExpression(node)) {
      const callee = ts.isParenthesizedExpression(node.expression) ? node.expression.expression : node.expression;
      if (ts.isFunctionExpression(callee) || ts.isArrowFunction(callee)) {
        visit(callee.body);
        node.arguments.forEach(visit);
        return;
      }
    }
    if (ts.isFunctionLike(node)) return;
    if (ts.isNewExpression(node)) found.push(node.getText(sf).split('\n')[0]!);
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(sf, visit);
  return found;
}

/** What may be built at load: a value type, a collection built from a literal table, or a named process memo. */
function allowed(path: string, expr: string): boolean {
  const type = /^new ([\w.]+)/.exec(expr)?.[1] ?? '';
  if (VALUE_TYPES.has(type)) return true;
  const empty = /^new [\w.]+(?:<[^(]*>)?\(\s*\)/.test(expr);
  if ((type === 'Set' || type === 'Map') && !empty) return true;
  return `${path} ${expr}` in PROCESS_MEMOS;
}

/** Files in src/ where `new <name>(` or `<name>(` (a call) appears. */
function whereCalled(name: string, asNew: boolean): string[] {
  const files = new Set<string>();
  for (const { path, file } of SOURCES) {
    const visit = (node: ts.Node): void => {
      const callee = asNew ? (ts.isNewExpression(node) ? node.expression : undefined) : ts.isCallExpression(node) ? node.expression : undefined;
      if (callee && callee.getText(file) === name) files.add(path);
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return [...files].sort();
}

describe('one composition root per process role', () => {
  test('the check sees every shape of module-level construction, and not what runs later', () => {
    const sf = ts.createSourceFile('x.ts', [
      'export const metrics = new NotifyMetrics();',
      'function f() { return new Pacer(); }',
      'class H { static http = new HttpClient({}); other = new MirrorStore(p); static { held = new PaceStore(p); } m() { return new Worker(); } }',
      'const m = (() => new MirrorStore(pool))();',
      'const lookup = new Set([\'a\', \'b\']);',
      'const state = new Map<string, number>();',
    ].join('\n'), ts.ScriptTarget.ES2022, true);
    const news = moduleLevelNews(sf);
    expect(news).toEqual(['new NotifyMetrics()', 'new HttpClient({})', 'new PaceStore(p)', 'new MirrorStore(pool)', "new Set(['a', 'b'])", 'new Map<string, number>()']);
    expect(news.filter((n) => !allowed('x.ts', n))).toEqual(['new NotifyMetrics()', 'new HttpClient({})', 'new PaceStore(p)', 'new MirrorStore(pool)', 'new Map<string, number>()']);
  });

  test.each(SOURCES.map((s) => [s.path, s.file] as const))('%s builds nothing stateful when it loads', (path, file) => {
    expect(moduleLevelNews(file).filter((n) => !allowed(path, n))).toEqual([]);
  });

  test('every named process memo is still there (the list does not outlive its entries)', () => {
    const all = SOURCES.flatMap(({ path, file }) => moduleLevelNews(file).map((n) => `${path} ${n}`));
    for (const key of Object.keys(PROCESS_MEMOS)) expect(all).toContain(key);
  });

  test.each([
    ['NotifyMetrics', true, ['src/main.ts']],
    ['Pacer', true, ['src/worker.ts']],
    ['buildApp', false, ['src/api/openapi-document.ts', 'src/runtime/api.ts']],
    ['InboundDispatcher', true, ['src/runtime/api.ts']],
    ['FollowUpRunner', true, ['src/worker.ts']],
    // The inbound plugin's own default, per app (an app built without the API role's), not module state.
    ['TemporalHealth', true, ['src/api/inbound/plugin.ts', 'src/runtime/api.ts']],
    ['PaceStore', true, ['src/worker.ts']],
    ['MirrorStore', true, ['src/runtime/api.ts', 'src/worker.ts']],
    ['HttpClient', true, ['src/cli/http.ts', 'src/runtime/processes.ts', 'src/worker.ts']],
    ['ConnectorReconciler', true, ['src/worker.ts']],
  ] as const)('%s is built only by its root', (name, asNew, roots) => {
    expect(whereCalled(name, asNew)).toEqual([...roots]);
  });
});
