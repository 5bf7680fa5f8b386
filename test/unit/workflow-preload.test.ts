/**
 * The workflow modules every workflow of a worker shares (src/runtime/workflow-preload.ts) must hold no state:
 * anything a preloaded module keeps in its closure is seen by every incident the worker runs. The SDK
 * deep-freezes what they export; this file refuses the rest, for every preloaded file:
 *  - a top-level `let` or `var`, and any top-level statement but imports, exports, `const`, functions, classes
 *    and types (no expression statements, blocks, enums or namespaces);
 *  - a top-level initializer that is not plain data: only literals (a regex without the g or y flag, whose
 *    `lastIndex` would be shared), names, arrow and function expressions, arithmetic on those, array and object
 *    literals of those (no methods: their `this` is the shared object), and `Object.freeze(…)` of those with every
 *    nested array or object frozen too — so no `new`, no call (an IIFE's closure), no `Object.create`; the same
 *    for `export default`;
 *  - a static member of a class;
 *  - a write to a property of any top-level binding, a function's included (assignment, delete, ++, a mutating
 *    method), through a type assertion or not;
 *  - a value import from outside the list (it would be preloaded too, unchecked), `@temporalio/*` included.
 * Writes through an alias or by a caller are out of its reach: objects a module hands out are frozen
 * (capabilities.ts). The checker's own teeth are tested on sources that break each rule.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';
import { PRELOADED_WORKFLOW_MODULES, workflowPreloadModules } from '../../src/runtime/workflow-preload';
import { sharedWorkflowBundle } from '../helpers/shared-bundle';
import { capsOfRef } from '../../src/workflows/capabilities';

const SRC = join(__dirname, '..', '..', 'src');
const MUTATORS = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'sort', 'reverse', 'fill', 'copyWithin', 'set', 'add', 'delete', 'clear', 'assign', 'defineProperty']);

const unwrap = (e: ts.Expression): ts.Expression => {
  let x = e;
  while (ts.isAsExpression(x) || ts.isSatisfiesExpression(x) || ts.isParenthesizedExpression(x) || ts.isTypeAssertionExpression(x)) x = x.expression;
  return x;
};

/** A value with no state of its own: literals, names, functions, arithmetic, and arrays, objects and freezes of those. */
function plainData(e: ts.Expression, inFreeze = false): boolean {
  const x = unwrap(e);
  // Inside Object.freeze(…) a nested array or object must be frozen too (the freeze is one level deep).
  if (inFreeze && (ts.isArrayLiteralExpression(x) || ts.isObjectLiteralExpression(x))) return false;
  if (ts.isRegularExpressionLiteral(x)) return !/\/[a-z]*[gy][a-z]*$/.test(x.text);
  if (ts.isStringLiteral(x) || ts.isNumericLiteral(x) || ts.isNoSubstitutionTemplateLiteral(x) || ts.isBigIntLiteral(x)) return true;
  if (x.kind === ts.SyntaxKind.TrueKeyword || x.kind === ts.SyntaxKind.FalseKeyword || x.kind === ts.SyntaxKind.NullKeyword) return true;
  if (ts.isIdentifier(x) || ts.isPropertyAccessExpression(x)) return true;
  if (ts.isArrowFunction(x) || ts.isFunctionExpression(x)) return true;
  if (ts.isTemplateExpression(x)) return x.templateSpans.every((sp) => plainData(sp.expression));
  if (ts.isPrefixUnaryExpression(x)) return (x.operator === ts.SyntaxKind.MinusToken || x.operator === ts.SyntaxKind.PlusToken) && plainData(x.operand);
  if (ts.isBinaryExpression(x)) return x.operatorToken.kind < ts.SyntaxKind.FirstAssignment || x.operatorToken.kind > ts.SyntaxKind.LastAssignment ? plainData(x.left) && plainData(x.right) : false;
  if (ts.isArrayLiteralExpression(x)) return x.elements.every((el) => !ts.isSpreadElement(el) && plainData(el));
  if (ts.isObjectLiteralExpression(x)) {
    // No methods: a method's `this` is the shared object.
    return x.properties.every((p) => (ts.isPropertyAssignment(p) ? !ts.isComputedPropertyName(p.name) && plainData(p.initializer) : ts.isShorthandPropertyAssignment(p)));
  }
  if (ts.isCallExpression(x)) {
    const arg = x.arguments[0] && unwrap(x.arguments[0]);
    if (x.expression.getText() !== 'Object.freeze' || x.arguments.length !== 1 || !arg) return false;
    if (ts.isArrayLiteralExpression(arg)) return arg.elements.every((el) => !ts.isSpreadElement(el) && plainData(el, true));
    if (ts.isObjectLiteralExpression(arg)) return arg.properties.every((p) => ts.isPropertyAssignment(p) && !ts.isComputedPropertyName(p.name) && plainData(p.initializer, true));
    return plainData(arg);
  }
  return false;
}

/** What makes a module unfit to be shared; `listed` is the set of module paths (relative to src, no extension). */
function problems(file: string, text: string, listed: ReadonlySet<string>): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const at = (n: ts.Node) => `${file}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  const collections = new Set<string>();
  const checkImport = (spec: ts.Expression | undefined, typeOnly: boolean, n: ts.Node) => {
    if (!spec || !ts.isStringLiteral(spec) || typeOnly) return;
    if (!spec.text.startsWith('.')) {
      out.push(`${at(n)}: value import of ${spec.text}`);
      return;
    }
    const target = relative(SRC, resolve(dirname(join(SRC, file)), spec.text));
    if (!listed.has(target)) out.push(`${at(n)}: value import of ${target}, which is not preloaded`);
  };
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const c = st.importClause;
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!c.namedBindings && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      checkImport(st.moduleSpecifier, typeOnly, st);
    } else if (ts.isExportDeclaration(st)) {
      checkImport(st.moduleSpecifier, st.isTypeOnly, st);
    } else if (ts.isVariableStatement(st)) {
      if (!(st.declarationList.flags & ts.NodeFlags.Const)) out.push(`${at(st)}: top-level let/var`);
      for (const d of st.declarationList.declarations) {
        const init = d.initializer && unwrap(d.initializer);
        if (init && ts.isNewExpression(init)) out.push(`${at(d)}: top-level new ${init.expression.getText(sf)}`);
        else if (init && !plainData(init)) out.push(`${at(d)}: top-level initializer that is not plain data: ${init.getText(sf).slice(0, 60)}`);
        if (ts.isIdentifier(d.name)) collections.add(d.name.text);
      }
    } else if (ts.isFunctionDeclaration(st) && st.name) {
      collections.add(st.name.text);
    } else if (ts.isExportAssignment(st)) {
      if (!plainData(st.expression)) out.push(`${at(st)}: export default that is not plain data`);
    } else if (ts.isClassDeclaration(st)) {
      for (const m of st.members) {
        const isStatic = ts.isClassStaticBlockDeclaration(m) || (ts.canHaveModifiers(m) && !!ts.getModifiers(m)?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword));
        if (isStatic) out.push(`${at(m)}: static class member`);
      }
    } else if (!(ts.isFunctionDeclaration(st) || ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st))) {
      out.push(`${at(st)}: top-level ${ts.SyntaxKind[st.kind]}`);
    }
  }
  // Writes to a top-level array or object anywhere in the file.
  const base = (e: ts.Expression): string | undefined => {
    let x = e;
    while (ts.isPropertyAccessExpression(x) || ts.isElementAccessExpression(x) || ts.isNonNullExpression(x) || ts.isParenthesizedExpression(x) || ts.isAsExpression(x) || ts.isTypeAssertionExpression(x) || ts.isSatisfiesExpression(x)) x = x.expression;
    return ts.isIdentifier(x) ? x.text : undefined;
  };
  const isAccess = (e: ts.Expression) => ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e);
  const visit = (n: ts.Node): void => {
    if (ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment && isAccess(n.left)) {
      const b = base(n.left);
      if (b && collections.has(b)) out.push(`${at(n)}: writes to top-level ${b}`);
    }
    if ((ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) && (n.operator === ts.SyntaxKind.PlusPlusToken || n.operator === ts.SyntaxKind.MinusMinusToken) && isAccess(n.operand)) {
      const b = base(n.operand);
      if (b && collections.has(b)) out.push(`${at(n)}: writes to top-level ${b}`);
    }
    if (ts.isDeleteExpression(n)) {
      const b = base(n.expression);
      if (b && collections.has(b)) out.push(`${at(n)}: deletes from top-level ${b}`);
    }
    if (ts.isCallExpression(n)) {
      const callee = n.expression;
      if (ts.isPropertyAccessExpression(callee) && MUTATORS.has(callee.name.text)) {
        const b = base(callee.expression);
        if (b && collections.has(b)) out.push(`${at(n)}: ${callee.name.text}() on top-level ${b}`);
        // Object.assign(X, …) / Object.defineProperty(X, …)
        const first = n.arguments[0];
        if (ts.isIdentifier(callee.expression) && callee.expression.text === 'Object' && first) {
          const fb = base(first);
          if (fb && collections.has(fb)) out.push(`${at(n)}: Object.${callee.name.text}() on top-level ${fb}`);
        }
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const listed = new Set<string>(PRELOADED_WORKFLOW_MODULES);

describe('preloaded workflow modules hold no state', () => {
  it.each([...PRELOADED_WORKFLOW_MODULES])('%s', (m) => {
    const file = `${m}.ts`;
    expect(problems(file, readFileSync(join(SRC, file), 'utf8'), listed)).toEqual([]);
  });

  it('resolves every listed module to a file of this build', () => {
    const files = workflowPreloadModules();
    expect(files).toHaveLength(PRELOADED_WORKFLOW_MODULES.length);
    for (const [i, f] of files.entries()) expect(relative(SRC, f).replace(/\.(ts|js)$/, '')).toBe(PRELOADED_WORKFLOW_MODULES[i]);
  });

  it('the bundle every worker runs (bundled once for the run by global setup, as the build bundles it) preloads exactly the listed modules', async () => {
    const { code } = await sharedWorkflowBundle();
    const body = /exports\.preloadModules = function preloadModules\(\) \{([\s\S]*?)\n\}/.exec(code)?.[1] ?? '';
    // webpack names each module by its path from the project root: "./src/shared/contract.ts" under ts-jest.
    const preloaded = [...body.matchAll(/__webpack_require__\(\/\* webpackMode: "eager" \*\/ \/\*! \.\/(?:src|dist)\/(\S+)\.(?:ts|js) \*\//g)].map((x) => x[1]!);
    expect(preloaded.sort()).toEqual([...PRELOADED_WORKFLOW_MODULES].sort());
  }, 120_000);
});

describe('what a preloaded module hands out cannot be changed by one incident for the others', () => {
  // capsOfRef returns entries of a table the SDK does not freeze (it is not exported); a caller's write to one
  // would change every later incident's labels, so the entries are frozen in the module itself.
  it.each(['pagerduty', 'opsgenie', 'slack', 'teams', 'servicenow', 'jira'] as const)('capsOfRef(%s)', (provider) => {
    const caps = capsOfRef({ provider });
    expect(Object.isFrozen(caps)).toBe(true);
    expect(() => {
      'use strict';
      (caps as { name: string }).name = 'changed';
    }).toThrow(TypeError);
    expect(capsOfRef({ provider }).name).not.toBe('changed');
  });
});

describe('the checker refuses each kind of state (its teeth)', () => {
  const only = new Set(['shared/a']);
  const cases: Array<[string, string, RegExp]> = [
    ['a top-level let', 'let n = 0;\nexport const next = () => ++n;', /let\/var/],
    ['a top-level var', 'var n = 0;', /let\/var/],
    ['a top-level Map', 'const seen = new Map<string, number>();', /new Map/],
    ['a top-level Set behind as', 'const seen = new Set() as Set<string>;', /new Set/],
    ['a push on a top-level array', 'const xs: string[] = [];\nexport function add(x: string) { xs.push(x); }', /push\(\) on top-level xs/],
    ['a write to a top-level object', 'const cache: Record<string, number> = {};\nexport function put(k: string) { cache[k] = 1; }', /writes to top-level cache/],
    ['an increment in a top-level object', 'const c = { n: 0 };\nexport function bump() { c.n++; }', /writes to top-level c/],
    ['a delete from a top-level object', 'const c: Record<string, number> = {};\nexport function drop(k: string) { delete c[k]; }', /deletes from top-level c/],
    ['Object.assign on a top-level object', 'const c = {};\nexport function merge(x: object) { Object.assign(c, x); }', /Object\.assign\(\) on top-level c/],
    ['a sort in place of a top-level array', 'const xs = [3, 1];\nexport const sorted = () => xs.sort();', /sort\(\) on top-level xs/],
    ['a memo in an IIFE', 'export const memo = (() => { const seen: Record<string, number> = {}; return (k: string) => (seen[k] = (seen[k] ?? 0) + 1); })();', /not plain data/],
    ['a call at module scope', 'export const started = Date.now();', /not plain data/],
    ['Object.create', 'const table = Object.create(null) as Record<string, number>;', /not plain data/],
    ['Array() without new', 'const xs = Array<number>();', /not plain data/],
    ['new behind a conditional', 'const m = true ? new Map() : undefined;', /not plain data/],
    ['a global regex', 'const SPACES = /\\s+/g;\nexport const squash = (s: string) => s.replace(SPACES, " ");', /not plain data/],
    ['a sticky regex', 'export const WORD = /\\w+/y;', /not plain data/],
    ['a frozen object holding a Map', 'export const T = Object.freeze({ m: new Map() });', /not plain data/],
    ['a frozen object holding an unfrozen one', 'const T = Object.freeze({ a: { n: 1 } });', /not plain data/],
    ['a frozen object holding an array', 'const T = Object.freeze({ xs: [] as number[] });', /not plain data/],
    ['a write through a frozen table', 'const T = Object.freeze({ a: Object.freeze({ n: 1 }) });\nexport function bump() { (T.a as { n: number }).n++; }', /writes to top-level T/],
    ['an object with a method', 'const C = { n: 0, bump() { this.n += 1; } };', /not plain data/],
    ['a property on a top-level function', 'function f() { return 1; }\nexport function tag() { (f as unknown as { n: number }).n = 1; }', /writes to top-level f/],
    ['a property on a top-level arrow', 'const h = (x: number) => x;\nexport function tag() { (h as unknown as { c: object }).c = {}; }', /writes to top-level h/],
    ['an export default of a Map', 'export default new Map();', /export default that is not plain data/],
    ['a static class field', 'export class Counter { static n = 0; }', /static class member/],
    ['a static block', 'export class Counter { static { console.log(1); } }', /static class member/],
    ['an expression statement', 'globalThis.x = 1;', /top-level ExpressionStatement/],
    ['a let in a top-level block', '{ let n = 0; n++; }', /top-level Block/],
    ['an enum', 'export enum Kind { A, B }', /top-level EnumDeclaration/],
    ['a value import of the SDK', "import { sleep } from '@temporalio/workflow';", /value import of @temporalio\/workflow/],
    ['a value import from outside the list', "import { x } from './b';", /shared\/b, which is not preloaded/],
  ];
  it.each(cases)('%s', (_name, source, expected) => {
    const found = problems('shared/a.ts', source, only);
    expect(found.some((p) => expected.test(p))).toBe(true);
  });

  it('accepts type-only imports, frozen constants and pure functions', () => {
    const source = [
      "import type { Foo } from '@temporalio/workflow';",
      "import { type Bar } from './b';",
      'export const KINDS = [\'a\', \'b\'] as const;',
      'const RANK: Record<string, number> = { a: 1 };',
      'const LIMIT = 366 * 24 * 3_600_000;',
      'const ID = /^[a-z]+$/i;',
      'const TABLE = Object.freeze({ a: Object.freeze({ n: 1, f: (x: number) => x + LIMIT }) });',
      'export const label = (k: string): string => `${k}:${TABLE.a.n}`;',
      'export class Wake { #n = 0; bump(): void { this.#n += 1; } }',
      'export function rank(k: string): number { const local: number[] = []; local.push(RANK[k] ?? 0); return local[0]!; }',
    ].join('\n');
    expect(problems('shared/a.ts', source, only)).toEqual([]);
  });
});
