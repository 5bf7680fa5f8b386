/**
 * OpenTelemetry traces end to end: the real service (`node main.js all`, API and worker in one process) on the
 * dev server and Postgres, exporting over OTLP/HTTP JSON to an in-process receiver on loopback, with PagerDuty,
 * Opsgenie, ServiceNow and Jira doubles. One incident is opened over /v1 and resolved by a signed inbound webhook;
 * then the process is stopped (SIGTERM), which must flush the spans still buffered.
 *
 * Checked: one trace links the API's POST /v1/incidents span, the Temporal client's start span, the activity
 * spans and the provider HTTP spans (with provider, connector and tenant attributes and the HTTP status); another
 * links the inbound webhook's span, its resolve signal span, the resolve activities and their requests; server
 * spans carry route templates, never the raw path; and no 8-character window of any planted secret (routing key,
 * API key, passwords, tokens, the inbound secret, their Basic-auth encodings) appears in any exported span's
 * name, attributes, events, status or resource — nor anywhere in the export requests once trace and span ids
 * (random hex) are set aside. A Jira double that echoes the Authorization header in its refusal makes sure a
 * failed call's recorded exception is covered too.
 */
import { JiraDouble } from '../../src/sandbox/doubles/jira';
import { OpsgenieDouble } from '../../src/sandbox/doubles/opsgenie';
import { PagerDutyDouble } from '../../src/sandbox/doubles/pagerduty';
import { ServiceNowDouble } from '../../src/sandbox/doubles/servicenow';
import { leakedWindows } from '../helpers/leaks';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver';
import { eventually, uniqueId } from '../helpers/shared';
import { startStack, type TestStack } from '../helpers/stack';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import { freePort } from '../setup/temporal-server';

// Every 8-character window of these holds a letter outside a-f, so none can match a random hex id by chance.
const S = {
  routingKey: 'PDzRoutingKeyQxQxQxQxQxQxQxQx01',
  genieKey: 'OGzGenieKeyZyZyZyZyZy-02',
  snPass: 'SNzPasswordWvWvWvWvWv03',
  jiraToken: 'JRzApiTokenUtUtUtUtUt04',
  apiToken: 'tok-trace-QzQzQzQzQzQzQzQzQz05',
  inbound: 'inbound-secret-RsRsRsRsRsRsRs06',
};
const SN_USER = 'svc.tracing';
const JIRA_EMAIL = 'tracer@acme.example';

const SERVER = 2;
const CLIENT = 3;

describe('OpenTelemetry traces: API → Temporal client → activity → provider request, and no secret in any span', () => {
  let receiver: OtlpReceiver;
  let pd: PagerDutyDouble, og: OpsgenieDouble, sn: ServiceNowDouble, jira: JiraDouble;
  let stack: TestStack;
  let proc: WorkerProcess | undefined;
  const tenant = uniqueId('trace');
  const incidentId = uniqueId('inc-trace');
  let secrets: string[] = [];

  beforeAll(async () => {
    receiver = await new OtlpReceiver().start();
    pd = await new PagerDutyDouble().start();
    og = await new OpsgenieDouble({ apiKey: S.genieKey }).start();
    sn = await new ServiceNowDouble({ user: SN_USER, password: S.snPass }).start();
    jira = await new JiraDouble({ email: JIRA_EMAIL, apiToken: S.jiraToken }).start();
    // Jira refuses, echoing what it was sent: the failure recorded on the activity span must be scrubbed.
    jira.faults.before = (r) => ({ status: 400, body: { errorMessages: [`bad request with ${r.headers.authorization} on ${r.path}`] } });
    const connectors = [
      `${tenant}|pagerduty|${pd.url}/v2/enqueue|${S.routingKey}`,
      `${tenant}|opsgenie|${og.url}/v2/alerts|${S.genieKey}`,
      `${tenant}|servicenow|${sn.url}?assignment_group=noc|${SN_USER}:${S.snPass}`,
      `${tenant}|jira|${jira.url}/rest/api/2/issue?project=OPS|${JIRA_EMAIL}:${S.jiraToken}`,
    ].join(',');
    secrets = [
      ...Object.values(S),
      Buffer.from(`${SN_USER}:${S.snPass}`).toString('base64'),
      Buffer.from(`${JIRA_EMAIL}:${S.jiraToken}`).toString('base64'),
    ];
    // The stack provides the database, task queue and dev server (its own in-process worker is not started).
    stack = await startStack({
      worker: false,
      env: {
        PROBECTL_NOTIFY_CONNECTORS: connectors,
        PROBECTL_NOTIFY_API_TOKENS: `${tenant}:${S.apiToken}`,
        PROBECTL_NOTIFY_INBOUND: `pd-in:${tenant}:pagerduty:${S.inbound}`,
      },
    });
  });

  afterAll(async () => {
    await proc?.kill('SIGKILL');
    await stack?.stop();
    for (const d of [pd, og, sn, jira]) await d?.stop();
    await receiver?.stop();
  });

  test('one trace from POST /v1/incidents to each provider request; the inbound webhook traced; nothing secret exported', async () => {
    const port = await freePort();
    proc = spawnWorker({
      ...stack.env,
      PROBECTL_NOTIFY_API_PORT: String(port),
      PROBECTL_NOTIFY_SHUTDOWN_DELAY: '0s',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'probectl-notify-e2e',
    }, 'all');
    await proc.ready;
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${S.apiToken}`, 'content-type': 'application/json' };

    const opened = await fetch(`${base}/v1/incidents?trace=probe-query-value`, {
      method: 'POST', headers: auth, body: JSON.stringify({ id: incidentId, title: 'Packet loss on edge-3', severity: 'critical' }),
    });
    expect(opened.status).toBe(201);
    const key = `probectl-${incidentId}`;
    await eventually(() => pd.openAlerts().some((a) => a.dedupKey === key), { what: 'the page' });
    await eventually(() => og.alerts.some((a) => a.alias === key), { what: 'the Opsgenie alert' });
    await eventually(() => sn.tickets.length > 0, { what: 'the ServiceNow ticket' });
    // Jira refused for good: its link is failed.
    await eventually(async () => {
      const r = await fetch(`${base}/v1/incidents/${incidentId}`, { headers: auth });
      const s = (await r.json()) as { links: Array<{ connectorId: string; status: string }> };
      return s.links.find((l) => l.connectorId === 'jira')?.status === 'failed';
    }, { what: 'the failed Jira link' });

    // PagerDuty reports the resolution (portable contract, authenticated by the inbound secret).
    const body = JSON.stringify({ external_ref: key, status: 'resolved' });
    const delivered = await fetch(`${base}/ingest/itsm/pagerduty/pd-in`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-probectl-token': S.inbound }, body,
    });
    expect(delivered.status).toBe(202);
    const inboundAnswer = (await delivered.json()) as { queued?: boolean };
    await eventually(() => og.alerts.some((a) => a.alias === key && a.status === 'closed'), { what: 'the Opsgenie alert closed' });

    // SIGTERM: the API and the worker stop, and the tracer provider flushes what it still buffers.
    const exited = new Promise<number | null>((r) => proc!.child.once('exit', (code) => r(code)));
    proc.child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const spans = receiver.spans;
    expect(receiver.requests.every((r) => r.path === '/v1/traces' && r.contentType.startsWith('application/json'))).toBe(true);
    expect(spans.every((s) => s.resource['service.name'] === 'probectl-notify-e2e')).toBe(true);

    // The API span of the open, by its route template.
    const post = spans.filter((s) => s.kind === SERVER && s.attributes['http.route'] === '/v1/incidents' && s.attributes['http.request.method'] === 'POST');
    expect(post).toHaveLength(1);
    const api = post[0]!;
    expect(api.name).toBe('POST /v1/incidents');
    expect(api.attributes['http.response.status_code']).toBe(201);
    const trace = spans.filter((s) => s.traceId === api.traceId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const parentOf = (s: ReceivedSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);

    // API → Temporal client start → activity → provider request, each the parent of the next.
    const start = trace.find((s) => s.name === 'StartWorkflow:incidentWorkflow');
    expect(start).toBeDefined();
    expect(parentOf(start!)?.spanId).toBe(api.spanId);
    const requests = trace.filter((s) => s.kind === CLIENT && s.attributes['probectl.provider'] !== undefined);
    const providers = new Set(requests.map((s) => s.attributes['probectl.provider']));
    for (const p of ['pagerduty', 'opsgenie', 'servicenow', 'jira']) expect(providers).toContain(p);
    for (const r of requests) {
      const activity = parentOf(r);
      expect(activity?.name).toMatch(/^RunActivity:/);
      expect(parentOf(activity!)?.spanId).toBe(start!.spanId);
      expect(r.attributes['probectl.tenant_id']).toBe(tenant);
      expect(r.attributes['probectl.connector_id']).toBe(r.attributes['probectl.provider']);
      expect(r.attributes['server.address']).toBe('127.0.0.1');
      expect(typeof r.attributes['http.response.status_code']).toBe('number');
      expect(r.attributes['probectl.outcome']).toBe(Number(r.attributes['http.response.status_code']) < 400 ? 'ok' : `http_${r.attributes['http.response.status_code']}`);
    }
    const pdTrigger = requests.find((s) => s.attributes['probectl.provider'] === 'pagerduty');
    expect(pdTrigger?.attributes['http.response.status_code']).toBe(202);
    expect(requests.find((s) => s.attributes['probectl.provider'] === 'jira')?.attributes['http.response.status_code']).toBe(400);
    // The inbound webhook: its own server span, by template. Its resolve signal span (the request's child when
    // Temporal took it inline; the outbox dispatcher's otherwise) is the parent of the fan-out's activities, and
    // those of their provider requests: webhook → signal → activity → provider request, one trace.
    const hook = spans.find((s) => s.kind === SERVER && s.attributes['http.route'] === '/ingest/itsm/:provider/:id');
    expect(hook).toBeDefined();
    expect(hook!.attributes['http.response.status_code']).toBe(202);
    const signals = spans.filter((s) => s.name === 'SignalWorkflow:resolve');
    expect(signals).toHaveLength(1);
    const signal = signals[0]!;
    if (inboundAnswer.queued !== true) {
      expect(signal.traceId).toBe(hook!.traceId);
      expect(signal.parentSpanId).toBe(hook!.spanId);
    }
    const resolves = spans.filter((s) => s.name === 'RunActivity:resolveConnector');
    expect(resolves.length).toBeGreaterThanOrEqual(2);
    for (const r of resolves) expect([r.traceId, r.parentSpanId]).toEqual([signal.traceId, signal.spanId]);
    const resolveRequests = spans.filter((s) => s.kind === CLIENT && s.parentSpanId !== undefined && resolves.some((r) => r.spanId === s.parentSpanId));
    // Every connector whose open was attempted but the origin (Jira's failed create is looked up and closed too).
    const resolvedAt = new Set(resolveRequests.map((s) => s.attributes['probectl.provider']));
    for (const p of ['opsgenie', 'servicenow']) expect(resolvedAt).toContain(p);
    expect(resolvedAt).not.toContain('pagerduty');
    for (const r of resolveRequests) expect(r.traceId).toBe(signal.traceId);

    // Server spans name routes, never raw paths: no incident id, no query string.
    for (const s of spans.filter((x) => x.kind === SERVER)) {
      expect(JSON.stringify([s.name, s.attributes])).not.toContain(incidentId);
      expect(JSON.stringify([s.name, s.attributes])).not.toContain('probe-query-value');
    }
    // No span names a URL path, query or body of a provider request.
    for (const s of requests) expect(Object.keys(s.attributes).filter((k) => /^url\.|body|header/.test(k))).toEqual([]);

    // The leak scan: every span's name, attributes, events, status and resource, and the export requests whole
    // (trace and span ids, random hex, set aside).
    const leaks: string[] = [];
    for (const s of spans) {
      leaks.push(...leakedWindows(secrets, JSON.stringify([s.name, s.attributes, s.events, s.status ?? null, s.resource]), `span ${s.name}`));
    }
    for (const r of receiver.requests) {
      const text = r.body.replace(/"(traceId|spanId|parentSpanId)":"[0-9a-f]*"/g, '');
      leaks.push(...leakedWindows(secrets, text, 'export request'));
      leaks.push(...leakedWindows(secrets, JSON.stringify(r.headers), 'export headers'));
    }
    expect(leaks).toEqual([]);
    // The scan looked at something: the Jira refusal was recorded (scrubbed) on its activity span.
    const failed = trace.find((s) => s.name === 'RunActivity:openConnector' && s.status?.code === 2);
    expect(failed?.events.some((e) => e.name === 'exception')).toBe(true);
  });
});
