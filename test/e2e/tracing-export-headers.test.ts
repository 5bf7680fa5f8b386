/**
 * The OTLP export request's headers are exactly those src/config/tracing.ts chose: OTEL_EXPORTER_OTLP_TRACES_HEADERS
 * when set, else OTEL_EXPORTER_OTLP_HEADERS — never the two merged, whatever the process environment holds when
 * the exporter is built (the exporter reads both variables itself). A child Node process runs the compiled
 * modules with the variables in its environment, as in production (the exporter loads its transport with a
 * dynamic import, which Jest's module sandbox cannot run), and exports one span to a loopback receiver.
 */
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { OtlpReceiver } from '../helpers/otlp-receiver';
import { ensureBuild } from '../helpers/worker-process';

const SCENARIO = String.raw`
const build = process.env.BUILD;
const { loadConfig } = require(build + '/config/load.js');
const { startTracing, activeTracer } = require(build + '/observability/tracing.js');
const log = { info: () => undefined, warn: (o, m) => process.stderr.write(String(m) + '\n') };
(async () => {
  const config = loadConfig(process.env);
  const tracing = startTracing(config.tracing, log, 'worker');
  activeTracer().startSpan('probe').end();
  await tracing.shutdown();
  process.stdout.write(JSON.stringify({ general: process.env.OTEL_EXPORTER_OTLP_HEADERS ?? null, traces: process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? null }) + '\n');
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

function run(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const main = ensureBuild();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', SCENARIO], {
      cwd: dirname(dirname(main)),
      env: { PATH: process.env.PATH ?? '', BUILD: dirname(main), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('OTLP export headers: the documented precedence, nothing merged from the environment', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await new OtlpReceiver().start();
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  // [OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS, headers sent, header names never sent]
  test.each<[string | undefined, string | undefined, Record<string, string>, string[]]>([
    ['x-general=general-only-G1,x-key=general-K2', 'x-key=traces-K1', { 'x-key': 'traces-K1' }, ['x-general']],
    ['x-general=general-only-G1,x-other=general-O2', 'x-key=traces-K1,x-team=sre', { 'x-key': 'traces-K1', 'x-team': 'sre' }, ['x-general', 'x-other']],
    ['x-general=general-only-G1', undefined, { 'x-general': 'general-only-G1' }, ['x-key']],
    [undefined, 'x-key=traces-K1', { 'x-key': 'traces-K1' }, ['x-general']],
    [undefined, undefined, {}, ['x-key', 'x-general']],
  ])('general %j, traces %j', async (general, traces, sent, never) => {
    const env: Record<string, string> = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' };
    if (general !== undefined) env.OTEL_EXPORTER_OTLP_HEADERS = general;
    if (traces !== undefined) env.OTEL_EXPORTER_OTLP_TRACES_HEADERS = traces;
    const before = receiver.requests.length;
    const r = await run(env);
    expect([r.code, r.out.includes('"general"')]).toEqual([0, true]);
    const requests = receiver.requests.slice(before);
    expect(requests.length).toBeGreaterThanOrEqual(1);
    for (const req of requests) {
      for (const [name, value] of Object.entries(sent)) expect([name, req.headers[name]]).toEqual([name, value]);
      for (const name of never) expect([name, req.headers[name]]).toEqual([name, undefined]);
    }
    // The variables are left as they were for the rest of the process.
    expect(JSON.parse(r.out.trim().split('\n').pop()!)).toEqual({ general: general ?? null, traces: traces ?? null });
  });
});
