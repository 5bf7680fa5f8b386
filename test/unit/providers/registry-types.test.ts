// The registry derives the contract's `Provider` type from the definitions it lists (src/providers/registry.ts). If a
// definition's type is inferred from its initializer, that derivation is circular whenever anything the initializer
// reaches (a connector, a lister) names a contract type: the compiler then types the registry as `any` — and whether it
// notices depends on which file it checks first (CI once failed only for test files that import a Jira module before the
// registry). A declared type has no initializer to infer, so no order can make it circular. This checks every provider
// folder, shipped or added later, for that shape.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { SHIPPED_PROVIDERS } from '../../../src/providers/registry';

const root = join(__dirname, '../../../src/providers');
/** Shipped provider folders, and the test-only ones (the worked example new providers are copied from). */
const roots = [root, join(__dirname, '../../fixtures/providers')];
const folders = roots.flatMap((r) => readdirSync(r, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(r, e.name, 'index.ts')))
  .map((e) => ({ name: e.name, file: join(r, e.name, 'index.ts') })));

/** Every exported `const` of the file, with whether it declares its type and how its initializer ends. */
function exportedConsts(file: string): { name: string; declared: string | undefined; satisfies: boolean }[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: { name: string; declared: string | undefined; satisfies: boolean }[] = [];
  for (const st of sf.statements) {
    if (!ts.isVariableStatement(st) || !st.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
    for (const d of st.declarationList.declarations) {
      out.push({
        name: d.name.getText(sf),
        declared: d.type?.getText(sf),
        satisfies: d.initializer !== undefined && ts.isSatisfiesExpression(d.initializer),
      });
    }
  }
  return out;
}

test('there is a provider folder per shipped provider (the scan sees them all)', () => {
  // The test-only example is checked while it exists; deleting it must leave this test as it is.
  expect(folders.map((f) => f.name)).toEqual(expect.arrayContaining(['jira', 'opsgenie', 'pagerduty', 'servicenow', 'slack', 'teams']));
  expect(folders.map((f) => f.name)).toEqual(expect.arrayContaining([...SHIPPED_PROVIDERS]));
});

test.each(folders.map((f) => [f.name, f.file] as const))('%s/index.ts declares its definition\'s type instead of inferring it', (name, file) => {
  const consts = exportedConsts(file);
  expect(consts.map((c) => c.name)).toContain(name);
  for (const c of consts) {
    expect({ name: c.name, satisfies: c.satisfies }).toEqual({ name: c.name, satisfies: false });
    expect(c.declared).toMatch(/^(Inbound)?ProviderDefinition<'[a-z0-9-]+', \w+>$/);
    // Options typed `any` would check nothing.
    expect(c.declared).not.toMatch(/, (any|unknown)>$/);
    expect(c.declared).toContain(`'${name}'`);
  }
});
