/**
 * Certificates are always validated: an https double with a self-signed certificate is refused by the
 * HttpClient; the same double is trusted by a worker process started with NODE_EXTRA_CA_CERTS naming it
 * (Node reads that variable only at process start, hence the child process).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient, TransportError } from '../../src/http/client';
import { buildTrigger } from '../../src/providers/pagerduty/build';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const KEY = 'R0UT1NGKEYtls00000000000000000001';

describe('TLS to providers', () => {
  const dir = join(__dirname, '..', '..', 'test-artifacts', `tls-${process.pid}`);
  const certFile = join(dir, 'cert.pem');
  let pd: PagerDutyDouble;
  let stack: TestStack;
  let worker: WorkerProcess | undefined;
  const tenant = uniqueId('tls');

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=probectl-test-double',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', certFile,
    ], { stdio: 'ignore' });
    pd = await new PagerDutyDouble().start(0, { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(certFile) });
    expect(pd.url.startsWith('https://127.0.0.1:')).toBe(true);
    stack = await startStack({ worker: false, env: { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${KEY}` } });
  });
  afterAll(async () => {
    await worker?.kill();
    await stack?.stop();
    await pd?.stop();
  });

  test('a self-signed certificate is refused by the HttpClient, and nothing reaches the double', async () => {
    expect(process.env.NODE_EXTRA_CA_CERTS ?? '').not.toContain(dir); // this process does not trust the test CA
    const http = new HttpClient({ timeoutMs: 5_000 });
    const err = await http.send(buildTrigger(`${pd.url}/v2/enqueue`, KEY, incidentFor(tenant)), [KEY]).catch((e: unknown) => e);
    await http.close();
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toMatch(/SELF_SIGNED|CERT|UNABLE_TO_VERIFY/);
    expect((err as Error).message).not.toContain(KEY);
    expect(pd.requests).toHaveLength(0);
  });

  test('trusted through NODE_EXTRA_CA_CERTS in the worker process: the page arrives', async () => {
    worker = spawnWorker({ ...stack.env, NODE_EXTRA_CA_CERTS: certFile });
    await worker.ready;
    const inc = incidentFor(tenant);
    await stack.incidents.openIncident(inc);
    await eventually(() => pd.alerts.find((a) => a.dedupKey === `probectl-${inc.id}`), { timeoutMs: 30_000, what: 'the alert over TLS' });
    const link = await eventually(async () => (await stack.incidents.getIncident(inc.id)).links.find((l) => l.status === 'open'), { what: 'the link' });
    expect(link.connectorId).toBe('pagerduty');
    await stack.client.workflow.getHandle(`probectl-${inc.id}`).terminate('test done');
  });
});
