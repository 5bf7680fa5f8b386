/**
 * The operator CLI end to end: the compiled bin (`node <build>/cli/main.js`) against the test dev server,
 * the test database, a worker of this process and the PagerDuty double. Exit codes are part of the
 * contract (docs/cli.md): 0 ok, 1 failure, 2 usage, 69 unavailable, 78 configuration.
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { eventually, uniqueId } from '../helpers/shared';
import { startStack, type TestStack } from '../helpers/stack';
import { ensureBuild } from '../helpers/worker-process';

const ROUTING_KEY = 'R0UT1NGKEYcliTest0000000000009f3e';
const INBOUND_SECRET = 'cli-inbound-secret-0123456789abcdef';

describe('probectl-notify CLI against the real stack', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  let cli: string;
  let env: Record<string, string>;
  const tenant = uniqueId('clitenant');

  beforeAll(async () => {
    cli = join(dirname(ensureBuild()), 'cli', 'main.js');
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${ROUTING_KEY}`,
        PROBECTL_NOTIFY_INBOUND: `snow-cli:${tenant}:servicenow:${INBOUND_SECRET}`,
      },
    });
    env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...stack.env };
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });
  afterEach(() => {
    pd.faults = {};
  });

  const run = (args: string[], extraEnv: Record<string, string> = {}) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (code) => resolve({ code, out, err }));
    });
  const alertsOf = (id: string) => pd.alerts.filter((a) => a.dedupKey === `probectl-${id}`);

  test('--help on every command, usage errors are 2', async () => {
    const commands = [
      ['config', 'validate'], ['connectors', 'list'], ['connectors', 'check'], ['connectors', 'test'], ['incident', 'open'], ['incident', 'show'],
      ['incident', 'resolve'], ['incident', 'redrive'], ['inbound', 'guide'], ['sign'], ['migrate'], ['setup-temporal'], ['replay-check'],
    ];
    for (const c of commands) {
      const r = await run([...c, '--help']);
      expect({ c, code: r.code }).toEqual({ c, code: 0 });
      expect(r.out).toContain(`probectl-notify ${c.join(' ')}`);
      expect(r.out).toMatch(/Example/);
    }
    expect((await run(['--help'])).code).toBe(0);
    expect((await run([])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['incident', 'show', '--bogus'])).code).toBe(2);
    expect((await run(['incident', 'show'])).code).toBe(2); // --incident missing
  });

  test('config validate: 0, and 78 naming the setting but never the secret', async () => {
    expect((await run(['config', 'validate'])).code).toBe(0);
    const bad = await run(['config', 'validate'], { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|http://10.1.2.3/v2/enqueue|${ROUTING_KEY}` });
    expect(bad.code).toBe(78);
    expect(bad.err).toContain('PROBECTL_NOTIFY_CONNECTORS');
    expect(bad.err + bad.out).not.toContain(ROUTING_KEY);
  });

  test('connectors list masks the credential; check reaches the double without paging', async () => {
    const list = await run(['connectors', 'list', '--tenant', tenant]);
    expect(list.code).toBe(0);
    expect(list.out).toContain('pagerduty');
    expect(list.out).toContain('<secret>…9f3e');
    expect(list.out).not.toContain(ROUTING_KEY);
    const before = pd.requests.length;
    const check = await run(['connectors', 'check', '--tenant', tenant]);
    expect(check.code).toBe(0);
    expect(check.out).toMatch(/pagerduty \(pagerduty\): ok — reachable: 127\.0\.0\.1:\d+ answered HTTP 404/);
    expect(pd.requests.slice(before).every((r) => r.method === 'GET' && r.path === '/' && !r.body)).toBe(true);
    expect(pd.alerts.filter((a) => a.routingKey === ROUTING_KEY && a.dedupKey.includes('probectl-notify-test'))).toHaveLength(0);
  });

  test('connectors test needs --yes, then pages once and resolves it', async () => {
    const refused = await run(['connectors', 'test', '--tenant', tenant, '--connector', 'pagerduty']);
    expect(refused.code).toBe(2);
    const r = await run(['connectors', 'test', '--tenant', tenant, '--connector', 'pagerduty', '--yes']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/opened on .*pagerduty: probectl-probectl-notify-test-\d+/);
    const tests = pd.alerts.filter((a) => a.dedupKey.startsWith('probectl-probectl-notify-test-'));
    expect(tests).toHaveLength(1);
    expect(tests[0]!.status).toBe('resolved');
    expect((await run(['connectors', 'test', '--tenant', tenant, '--connector', 'nope', '--yes'])).code).toBe(1);
  });

  test('incident open / show / resolve through Temporal', async () => {
    const id = uniqueId('cli');
    const open = await run(['incident', 'open', '--tenant', tenant, '--incident', id, '--title', 'Loss on edge-3', '--severity', 'critical']);
    expect(open.code).toBe(0);
    expect(open.out).toContain(`started probectl-${id}`);
    expect((await run(['incident', 'open', '--tenant', tenant, '--incident', id, '--title', 'Loss on edge-3'])).out).toContain(`running probectl-${id}`);
    // --json: the outcome, the workflow id and the run, nothing more (how the first task went is not the CLI's answer).
    const again = await run(['incident', 'open', '--tenant', tenant, '--incident', uniqueId('cli'), '--title', 'Loss on edge-4', '--json']);
    expect(again.code).toBe(0);
    expect(Object.keys(JSON.parse(again.out)).sort()).toEqual(['outcome', 'runId', 'workflowId']);
    expect(JSON.parse(again.out)).toMatchObject({ outcome: 'started' });
    await eventually(() => alertsOf(id)[0], { what: 'the alert' });
    await eventually(async () => (await stack.incidents.getIncident(id)).links[0]?.status === 'open');
    const show = await run(['incident', 'show', '--incident', id, '--json']);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.out)).toMatchObject({ status: 'open', links: [expect.objectContaining({ connectorId: 'pagerduty', status: 'open' })] });
    expect((await run(['incident', 'show', '--incident', id, '--tenant', 'someone-else'])).code).toBe(1);
    const resolved = await run(['incident', 'resolve', '--incident', id, '--actor', 'alice', '--wait']);
    expect(resolved.code).toBe(0);
    expect(resolved.out).toMatch(/pagerduty\s+resolved/);
    expect(alertsOf(id)).toEqual([expect.objectContaining({ status: 'resolved' })]);
    expect((await run(['incident', 'resolve', '--incident', id])).out).toContain('already closed');
    expect((await run(['incident', 'show', '--incident', uniqueId('missing')])).code).toBe(1);
  });

  test('a hostile title and actor print escaped; a blank --tenant is refused, not "any tenant"; a __proto__ label is kept', async () => {
    const id = uniqueId('cli-hostile');
    const title = 'Loss \u001b]52;c;Y3VybCBldmlsfHNo\u0007\u001b[2J\u009b31m \u202etxt.exe\u202c 🚨 на edge';
    const open = await run(['incident', 'open', '--tenant', tenant, '--incident', id, '--title', title, '--label', '__proto__=x', '--label', 'team=net']);
    expect(open.code).toBe(0);
    const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/; // eslint-disable-line no-control-regex
    const json = await run(['incident', 'show', '--incident', id, '--json']);
    expect(json.code).toBe(0);
    expect(json.out).not.toMatch(RAW);
    expect(JSON.parse(json.out).incident).toMatchObject({ title, labels: JSON.parse('{"__proto__":"x","team":"net"}') });
    for (const blank of ['', ' ', '\t']) {
      for (const cmd of [['incident', 'show'], ['incident', 'resolve'], ['incident', 'redrive', '--connector', 'pagerduty']]) {
        const r = await run([...cmd, '--incident', id, '--tenant', blank]);
        expect({ cmd, blank, code: r.code }).toEqual({ cmd, blank, code: 2 });
        expect(r.err).toContain('--tenant was given an empty or blank value');
        expect(r.out + r.err).not.toContain('Loss');
      }
    }
    const resolved = await run(['incident', 'resolve', '--incident', id, '--tenant', tenant, '--actor', 'eve\u001b]8;;https://evil.example\u0007ok', '--wait']);
    expect(resolved.code).toBe(0);
    const show = await run(['incident', 'show', '--incident', id]);
    expect(show.code).toBe(0);
    expect(show.out + show.err).not.toMatch(RAW);
    expect(show.out).toContain('  Loss \\u001b]52;c;Y3VybCBldmlsfHNo\\u0007\\u001b[2J\\u009b31m \\u202etxt.exe\\u202c 🚨 на edge\n');
    expect(show.out).toContain('actor=eve\\u001b]8;;https://evil.example\\u0007ok');
  });

  test('incident redrive re-opens a failed connector once the cause is fixed', async () => {
    const id = uniqueId('cli-redrive');
    pd.faults.before = (req) =>
      (req.json as { dedup_key?: string })?.dedup_key === `probectl-${id}` ? { status: 400, body: { status: 'invalid event', message: 'Event object is invalid' } } : undefined;
    expect((await run(['incident', 'open', '--tenant', tenant, '--incident', id, '--title', 'Loss'])).code).toBe(0);
    await eventually(async () => (await stack.incidents.getIncident(id)).links[0]?.status === 'failed', { what: 'the failed link' });
    pd.faults = {};
    const r = await run(['incident', 'redrive', '--incident', id, '--connector', 'pagerduty', '--wait', '30']);
    expect({ code: r.code, out: r.out, err: r.err }).toEqual({ code: 0, out: expect.stringMatching(/pagerduty: open probectl-/), err: '' });
    expect(alertsOf(id)).toHaveLength(1);
    const again = await run(['incident', 'redrive', '--incident', id, '--connector', 'pagerduty']);
    expect(again.code).toBe(1);
    expect(again.err).toContain('only a failed link');
    const state = await stack.incidents.getIncident(id);
    expect(state.timeline.map((t) => t.kind)).toEqual(expect.arrayContaining(['connector.failed', 'connector.redriven', 'connector.opened']));
    await stack.incidents.resolve(id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(id);
  });

  test('sign prints the signature the inbound route checks, never the secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'probectl-sign-'));
    const payload = join(dir, 'close.json');
    const body = '{"sys_id":"abc","state":"6"}';
    writeFileSync(payload, body);
    const expected = `sha256=${createHmac('sha256', INBOUND_SECRET).update(body).digest('hex')}`;
    const r = await run(['sign', '--entry', 'snow-cli', '--file', payload]);
    expect(r).toMatchObject({ code: 0, out: `X-Probectl-Signature: ${expected}\n` });
    writeFileSync(join(dir, 'secret'), `${INBOUND_SECRET}\n`);
    expect((await run(['sign', '--secret-file', join(dir, 'secret'), '--file', payload, '--value-only'])).out).toBe(`${expected}\n`);
    const ts = await run(['sign', '--entry', 'snow-cli', '--file', payload, '--timestamp', '1700000000']);
    expect(ts.out).toContain(`sha256=${createHmac('sha256', INBOUND_SECRET).update(`v1:1700000000:${body}`).digest('hex')}`);
    expect(ts.out).toContain('X-Probectl-Timestamp: 1700000000');
    expect((await run(['sign', '--entry', 'nope', '--file', payload])).code).toBe(1);
    const bad = await run(['sign', '--entry', 'snow-cli', '--file', payload], { PROBECTL_NOTIFY_INBOUND: 'snow-cli:t:servicenow:short' });
    expect(bad.code).toBe(78);
    for (const x of [r, ts, bad]) expect(x.out + x.err).not.toContain(INBOUND_SECRET);
    // The inbound route accepts what sign printed (a ref it does not know: 200 ignored, not 401).
    const answer = await stack.app.inject({
      method: 'POST', url: '/ingest/itsm/servicenow/snow-cli', payload: body,
      headers: { 'content-type': 'application/json', 'x-probectl-signature': expected },
    });
    expect(answer.statusCode).toBe(200);
  });

  test('inbound guide prints the entry\'s setup with the secret masked, and a ServiceNow signature the route accepts', async () => {
    const r = await run(['inbound', 'guide', 'snow-cli', '--base-url', 'https://notify.example.com']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('https://notify.example.com/ingest/itsm/servicenow/snow-cli');
    expect(r.out).toContain('<your secret>');
    expect(r.out).toContain("r.setRequestHeader('X-Probectl-Timestamp', ts)");
    expect(r.out + r.err).not.toContain(INBOUND_SECRET);
    const shown = await run(['inbound', 'guide', 'snow-cli', '--base-url', 'https://notify.example.com', '--show-secret']);
    expect(shown.out).toContain(INBOUND_SECRET);
    expect(shown.out).not.toContain('<your secret>');
    expect((await run(['inbound', 'guide', 'nope', '--base-url', 'https://x.example'])).code).toBe(1);
    expect((await run(['inbound', 'guide', 'snow-cli'])).code).toBe(2);
    expect((await run(['inbound', 'guide', 'snow-cli', '--base-url', 'not a url'])).code).toBe(2);
    // What the printed Business Rule computes (base64 HMAC over v1:<ts>:<body>, as GlideCertificateEncryption
    // generateMac answers) is accepted by the route.
    const body = '{"sys_id":"abc","state":"6","correlation_id":"probectl-none","number":"INC1","actor":"x"}';
    const ts = String(Math.floor(Date.now() / 1000));
    const mac = createHmac('sha256', INBOUND_SECRET).update(`v1:${ts}:${body}`).digest('base64');
    const answer = await stack.app.inject({
      method: 'POST', url: '/ingest/itsm/servicenow/snow-cli', payload: body,
      headers: { 'content-type': 'application/json', 'x-probectl-timestamp': ts, 'x-probectl-signature': `sha256=${mac}` },
    });
    expect(answer.statusCode).toBe(200);
  });

  test('replay-check replays the open incidents against the build; a workflow change without a patch fails it', async () => {
    const inc = { id: uniqueId('rc'), tenantId: tenant, title: 'replay me', severity: 'warning' as const, openedAt: new Date().toISOString() };
    await stack.incidents.openIncident(inc);
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'open', { what: 'the page' });
    const ok = await run(['replay-check', '--limit', '50']);
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/(\d+) open incidents? replayed in [\d.]+ s: \1 ok, 0 failed/);
    // A workflow that does something else first (a timer) cannot replay those histories.
    // Inside the checkout, so that '@temporalio/workflow' resolves from its node_modules (a dir under /tmp has none).
    const artifacts = join(__dirname, '..', '..', 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    const dir = mkdtempSync(join(artifacts, 'cli-replay-'));
    writeFileSync(join(dir, 'wf.ts'), "import { sleep } from '@temporalio/workflow';\nexport async function incidentWorkflow(): Promise<void> { await sleep(1); }\n");
    const { code } = await bundleWorkflowCode({ workflowsPath: join(dir, 'wf.ts'), logger: new DefaultLogger('WARN') });
    writeFileSync(join(dir, 'bundle.js'), code);
    const bad = await run(['replay-check', '--limit', '50', '--bundle', join(dir, 'bundle.js'), '--query', `WorkflowId = 'probectl-${inc.id}'`]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(`FAIL probectl-${inc.id}`);
    expect(bad.out).toMatch(/1 open incident replayed in [\d.]+ s: 0 ok, 1 failed/);
    expect((await run(['replay-check', '--bundle', join(dir, 'nope.js')])).code).toBe(1);
    expect((await run(['replay-check', '--limit', 'x'])).code).toBe(2);
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
  });

  test('migrate and setup-temporal are idempotent on the real services', async () => {
    const m = await run(['migrate']);
    expect(m).toMatchObject({ code: 0 });
    expect(m.out).toContain('up to date');
    const s = await run(['setup-temporal']);
    expect(s.code).toBe(0);
    expect(s.out).toContain('present  ProbectlTenant');
    expect(s.out).toContain('present  ProbectlExternalRefs');
  });

  test('Temporal or Postgres down → 69, and no secret in the message', async () => {
    const t = await run(['incident', 'show', '--incident', 'x'], { TEMPORAL_ADDRESS: '127.0.0.1:9' });
    expect(t.code).toBe(69);
    expect(t.err).toContain('unavailable');
    const db = await run(['migrate'], { DATABASE_URL: 'postgres://notify:Pa55wordNeverShown@127.0.0.1:9/x' });
    expect(db.code).toBe(69);
    expect(db.err).not.toContain('Pa55wordNeverShown');
    expect((await run(['migrate'], { DATABASE_URL: '' })).code).toBe(78);
  });
});
