/**
 * The tracing SDK exporting OTLP/HTTP **protobuf** (the default protocol; tracing.test.ts uses JSON) to a loopback
 * receiver, from a child Node process running the compiled modules (the exporter loads its transport with a
 * dynamic import, which Jest's module sandbox cannot run). The API hook's server spans are named by route
 * template, a provider request's client span carries its tags and status, and neither holds the raw path, the
 * query string, a header or the body; health checks are not traced; shutdown flushes. Protobuf strings are raw
 * UTF-8 in the body, so they are searched without a decoder.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { leakedWindows } from '../helpers/leaks';
import { ensureBuild } from '../helpers/worker-process';

const SECRET_QUERY = 'QzQzquerySecretWvWv';
const SECRET_HEADER = 'Bearer HdrSecretXyXyXyXy';
const SECRET_BODY = 'BodySecretRsRsRsRsRs';

function listen(server: Server): Promise<string> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

const SCENARIO = String.raw`
const build = process.env.BUILD;
const { startTracing, activeTracer } = require(build + '/observability/tracing.js');
const { traceRequests } = require(build + '/api/tracing-hooks.js');
const { HttpClient } = require(build + '/http/client.js');
const { createLogger } = require(build + '/observability/logger.js');
const Fastify = require('fastify');
(async () => {
  const log = createLogger('info');
  if (activeTracer() !== undefined) throw new Error('a tracer before start');
  const tracing = startTracing({ url: process.env.COLLECTOR + '/v1/traces', protocol: 'http/protobuf', timeoutMs: 5000, serviceName: 'probectl-notify-proto', endpointSetting: 'OTEL_EXPORTER_OTLP_ENDPOINT' }, log, 'all');
  const app = Fastify();
  traceRequests(app);
  app.get('/v1/things/:id', async () => ({ ok: true }));
  app.get('/healthz', async () => ({ ok: true }));
  await app.ready();
  const a = await app.inject({ method: 'GET', url: '/v1/things/inc-raw-value-77?token=' + process.env.SECRET_QUERY, headers: { authorization: process.env.SECRET_HEADER } });
  if (a.statusCode !== 200) throw new Error('route answered ' + a.statusCode);
  await app.inject({ method: 'GET', url: '/healthz' });
  await app.inject({ method: 'GET', url: '/no/such/route' });
  const http = new HttpClient({ timeoutMs: 5000 });
  const tags = { provider: 'opsgenie', connectorId: 'og-main', tenantId: 'tenant-proto' };
  const ok = await http.send({ method: 'POST', url: process.env.PROVIDER + '/v2/alerts?apiKey=' + process.env.SECRET_QUERY, headers: { authorization: process.env.SECRET_HEADER }, body: process.env.SECRET_BODY }, [process.env.SECRET_HEADER], undefined, tags);
  const refused = await http.send({ method: 'POST', url: process.env.PROVIDER + '/refuse', headers: {}, body: process.env.SECRET_BODY }, [], undefined, tags);
  let transport = 'none';
  try { await http.send({ method: 'GET', url: 'http://127.0.0.1:1/closed', headers: {} }, [], undefined, tags); } catch (e) { transport = e.code; }
  await http.close();
  await app.close();
  await tracing.shutdown();
  process.stdout.write(JSON.stringify({ ok: ok.status, refused: refused.status, transport, after: activeTracer() === undefined }) + '\n');
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

describe('tracing: OTLP/HTTP protobuf export', () => {
  const exports: Array<{ path: string; contentType: string; body: Buffer }> = [];
  const collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      exports.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  const provider = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(req.url?.startsWith('/refuse') ? 403 : 202).end('{}'));
  });

  afterAll(async () => {
    await new Promise((r) => collector.close(r));
    await new Promise((r) => provider.close(r));
  });

  test('route templates, tags and statuses exported; no path value, query, header or body; flushed at shutdown', async () => {
    const collectorUrl = await listen(collector);
    const providerUrl = await listen(provider);
    const build = dirname(ensureBuild());
    const child = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      // Asynchronously: the collector and the provider double live in this process.
      const p = spawn(process.execPath, ['-e', SCENARIO], {
        cwd: join(__dirname, '..', '..'),
        env: { PATH: process.env.PATH ?? '', BUILD: build, COLLECTOR: collectorUrl, PROVIDER: providerUrl, SECRET_QUERY, SECRET_HEADER, SECRET_BODY },
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('exit', (status) => resolve({ status, stdout, stderr }));
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const lines = child.stdout.split('\n').filter(Boolean);
    expect(JSON.parse(lines[lines.length - 1]!)).toEqual({ ok: 202, refused: 403, transport: 'ECONNREFUSED', after: true });

    expect(exports.length).toBeGreaterThanOrEqual(1);
    for (const e of exports) {
      expect(e.path).toBe('/v1/traces');
      expect(e.contentType).toBe('application/x-protobuf');
    }
    const text = Buffer.concat(exports.map((e) => e.body)).toString('latin1');
    for (const expected of ['probectl-notify-proto', 'GET /v1/things/:id', 'http.route', 'POST opsgenie', 'probectl.connector_id', 'og-main', 'tenant-proto', 'http_403', 'ECONNREFUSED']) {
      expect(text).toContain(expected);
    }
    expect(text).not.toContain('/healthz');
    expect(text).not.toContain('inc-raw-value-77');
    expect(text).not.toContain('/v2/alerts');
    expect(leakedWindows([SECRET_QUERY, SECRET_HEADER, SECRET_BODY], text, 'protobuf export')).toEqual([]);
    // The log names where the settings came from, never the endpoint.
    expect(child.stdout).toContain('tracing: exporting spans over OTLP/HTTP');
    expect(child.stdout).not.toContain(collectorUrl);
  });
});
