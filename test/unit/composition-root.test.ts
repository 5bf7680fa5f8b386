/**
 * One composition root per process role (docs/architecture.md): nothing stateful is built at module level in src/,
 * and each long-lived object is built only by its role's factory — the pool and the metrics registry by the process
 * (processParts in src/runtime/processes.ts, which main, the demo and the tests' stack call),
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
 * Module-level collections that start empty or are changed after load, and module-level `let` bindings, are process
 * state: each one is named here with why it may stay. (A Set or Map built from a table and never changed is a
 * constant lookup and needs no entry.)
 */
const PROCESS_MEMOS: Record<string, string> = {
  'src/providers/registry.ts new Map<string, ProviderDefinition>(SHIPPED.map((d) => [d.spec.name, d]))': 'the shipped providers, to which only tests add one (admitProvider, refused with NODE_ENV=production)',
  'src/observability/tracing.ts let tracer': 'the tracer while tracing is on: OpenTelemetry registers its tracer provider for the whole process (startTracing sets it, its shutdown clears it)',
  'src/providers/types.ts let urlIsCredential': 'set once by the registry when it loads (the connectors import this module and the registry imports them: importing the registry here would be a cycle); until then every URL is scrubbed',
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

/**
 * Module-level `let`/`var` bindings (`let <name>`), and collections (Map, Set, array or object literal) built at load
 * that the module changes later. A textual check over the module: a change through an alias or from another module
 * escapes it.
 */
function moduleLevelState(sf: ts.SourceFile): string[] {
  const found: string[] = [];
  const text = sf.getFullText();
  for (const st of sf.statements) {
    if (!ts.isVariableStatement(st)) continue;
    const mutable = (st.declarationList.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) !== ts.NodeFlags.Const;
    for (const d of st.declarationList.declarations) {
      const name = d.name.getText(sf);
      if (mutable) found.push(`let ${name}`);
      else if (d.initializer && isCollection(d.initializer, sf) && changes(text, name)) found.push(d.initializer.getText(sf).split('\n')[0]!);
    }
  }
  return found;
}

function isCollection(init: ts.Expression, sf: ts.SourceFile): boolean {
  const e = ts.isAsExpression(init) || ts.isSatisfiesExpression(init) ? init.expression : init;
  return (ts.isNewExpression(e) && /^(Map|Set)$/.test(e.expression.getText(sf))) || ts.isArrayLiteralExpression(e) || ts.isObjectLiteralExpression(e);
}

/** Does the module change `name` after load: a mutating method (optional call too), or an assignment into it? */
function changes(text: string, name: string): boolean {
  const n = name.replace(/[$]/g, '\\$');
  return new RegExp(`\\b${n}\\??\\.(set|add|delete|clear|push|pop|shift|unshift|splice|sort|reverse|fill)\\(`).test(text)
    || new RegExp(`\\b${n}(\\[[^\\]]*\\]|\\.\\w+)\\s*(=(?!=)|\\+=|-=|\\+\\+|--)`).test(text)
    || new RegExp(`delete ${n}[.[]`).test(text);
}

/** What may be built at load: a value type, a collection built from a table and never changed, or a named process memo. */
function allowed(path: string, expr: string, changed: readonly string[] = []): boolean {
  if (`${path} ${expr}` in PROCESS_MEMOS) return true;
  if (changed.includes(expr) || expr.startsWith('let ')) return false;
  const type = /^new ([\w.]+)/.exec(expr)?.[1] ?? '';
  if (VALUE_TYPES.has(type)) return true;
  const empty = /^new [\w.]+(?:<[^(]*>)?\(\s*\)/.test(expr);
  return (type === 'Set' || type === 'Map') && !empty;
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
    const changed = moduleLevelState(file);
    expect([...new Set([...moduleLevelNews(file), ...changed])].filter((n) => !allowed(path, n, changed))).toEqual([]);
  });

  test('the check sees module-level let bindings and tables changed after load', () => {
    const sf = ts.createSourceFile('x.ts', [
      'let current = 0;',
      'const table = new Map([[1, 2]]);',
      'const grown = new Map([[1, 2]]);',
      'const maybe = new Set([1]);',
      'const list: string[] = [];',
      'const byKey: Record<string, number> = {};',
      'const fixed = [1, 2];',
      'const limits = { a: 1 };',
      'export function add() { grown.set(3, 4); current += 1; maybe?.add(2); list.push(\'x\'); byKey[\'k\'] = 1; return fixed.length === limits.a; }',
    ].join('\n'), ts.ScriptTarget.ES2022, true);
    const changed = moduleLevelState(sf);
    expect(changed).toEqual(['let current', 'new Map([[1, 2]])', 'new Set([1])', '[]', '{}']);
    // The table never changed stays allowed; the one changed later and the let are not.
    expect(allowed('x.ts', 'let current', changed)).toBe(false);
    expect(allowed('x.ts', 'new Map([[1, 2]])', changed)).toBe(false);
    expect(allowed('x.ts', 'new Map([[1, 2]])', [])).toBe(true);
  });

  test('every named process memo is still there (the list does not outlive its entries)', () => {
    const all = SOURCES.flatMap(({ path, file }) => moduleLevelNews(file).map((n) => `${path} ${n}`));
    const state = SOURCES.flatMap(({ path, file }) => moduleLevelState(file).map((n) => `${path} ${n}`));
    for (const key of Object.keys(PROCESS_MEMOS)) expect([...all, ...state]).toContain(key);
  });

  test.each([
    ['NotifyMetrics', true, ['src/runtime/processes.ts']],
    // The process's pool; the CLI's migrate command its own; the pacer's small pool for the shared pacing store.
    ['createPool', false, ['src/cli/commands/migrate.ts', 'src/db/pace-store.ts', 'src/runtime/processes.ts']],
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
