/**
 * Every grpc-js connection to Temporal the project makes (API, CLI, the worker's client, the all-in-one process)
 * is built from clientConnectionOptions (src/config/temporal.ts), which turns grpc-js's proxy support off: grpc-js
 * would otherwise send Temporal traffic, the API key with it, through a host's lower-case proxy variables, which are
 * meant for provider calls (test/e2e/proxy.test.ts shows both the plain connection's proxying and the helper's
 * direct one). A `Connection.connect(` or `Connection.lazy(` in src that does not use it fails here.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function walk(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return walk(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Each grpc-js connection made in `text`: the call and the first line of its argument. NativeConnection is the Rust core's. */
function connections(text: string): string[] {
  return [...text.matchAll(/(?<!Native)Connection\.(?:connect|lazy)\(([^\n]*)/g)].map((m) => m[0]);
}

test('every grpc-js connection to Temporal in src is made from clientConnectionOptions', () => {
  const found = walk('src').flatMap((f) => connections(readFileSync(join(ROOT, f), 'utf8')).map((call) => ({ file: f, call })));
  // The entry points that connect today: a refactor that drops one from this list is fine, one that adds a raw call is not.
  expect(new Set(found.map((c) => c.file))).toEqual(
    new Set(['src/worker.ts', 'src/runtime/api.ts', 'src/runtime/processes.ts', 'src/cli/temporal.ts', 'src/cli/commands/setup-temporal.ts']),
  );
  expect(found.filter((c) => !c.call.includes('clientConnectionOptions('))).toEqual([]);
});

test('the scan sees a raw connection and passes the Rust core’s', () => {
  expect(connections('await Connection.connect({ address });')).toHaveLength(1);
  expect(connections('Connection.lazy(connectionOptions(t))')).toHaveLength(1);
  expect(connections('await NativeConnection.connect(connectionOptions(t));')).toEqual([]);
});
