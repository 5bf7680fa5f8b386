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
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JiraDouble } from '../../dev/doubles/jira';
import { ProbectlDouble } from '../../dev/doubles/probectl';
import { OpsgenieDouble } from '../../dev/doubles/opsgenie';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
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
const CALLBACK_SECRET = 'cb-secret-MnMnMnMnMnMnMnMn07';
const CALLBACK_PATH = '/api/notify/events-KjKjKjKj08';
const HEARTBEAT_PATH = '/ping/hb-uuid-HgHgHgHgHgHg09';
// The incident's title: a provider that echoes it in an error body must not get it into any span.
const TITLE = 'Packet loss on edge-3 at customer VbVbVbVb-Crest Foods';
// Callers' trace contexts. The authenticated /v1 caller's may be our parent; an outsider's never.
const hex = (c: string, n: number) => c.repeat(n);
const CALLER = { trace: hex('a1', 16), span: hex('b2', 8) };
const OUTSIDERS = {
  webhook: { trace: hex('c3', 16), span: hex('d4', 8) },
  unauthorized: { trace: hex('e5', 16), span: hex('f6', 8) },
  unknownRoute: { trace: hex('a7', 16), span: hex('b8', 8) },
  wrongToken: { trace: hex('c9', 16), span: hex('da', 8) },
};
// A valid tracestate near the W3C limit (32 members, < 512 characters) and baggage of several kilobytes.
const TRACESTATE = Array.from({ length: 30 }, (_, i) => `vendor${i}=${'t'.repeat(8)}${i}`).join(',');
const BAGGAGE = ['k=v', ...Array.from({ length: 40 }, (_, i) => `big${i}=${'B'.repeat(150)}`)].join(',');
/** What a caller sends: a traceparent (flags 00 = "do not sample" for the outsiders), a tracestate and baggage. */
const callerHeaders = (c: { trace: string; span: string }, flags: '00' | '01') => ({
  traceparent: `00-${c.trace}-${c.span}-${flags}`, tracestate: TRACESTATE, baggage: BAGGAGE,
});
const SN_USER = 'svc.tracing';
const JIRA_EMAIL = 'tracer@acme.example';

const SERVER = 2;
const CLIENT = 3;

describe('OpenTelemetry traces: API → Temporal client → activity → provider request, and no secret in any span', () => {
  let receiver: OtlpReceiver;
  let pd: PagerDutyDouble, og: OpsgenieDouble, sn: ServiceNowDouble, jira: JiraDouble;
  let probectl: ProbectlDouble;
  let sink: Server;
  let sinkPings = 0;
  let stack: TestStack;
  // Filled by the first test, checked by the others.
  let spans: ReceivedSpan[] = [];
  const headerFields: Array<{ event: string; data: Uint8Array }> = [];
  let callbackUrl = '';
  let heartbeatUrl = '';
  let ports: number[] = [];
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
    // Jira refuses, echoing what it was sent (the Authorization header, the path and the body with the incident's
    // title): nothing of it may reach a span.
    jira.faults.before = (r) => r.method !== 'POST' ? undefined : ({
      status: 400,
      body: { errorMessages: [`summary refused: ${(r.json as { fields?: { summary?: string } } | undefined)?.fields?.summary}; bad request with ${r.headers.authorization} on ${r.path}`] },
    });
    probectl = await new ProbectlDouble(CALLBACK_SECRET).start();
    sink = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        sinkPings += 1;
        res.writeHead(200).end('OK');
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
    callbackUrl = `${probectl.url}${CALLBACK_PATH}`;
    heartbeatUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}${HEARTBEAT_PATH}`;
    ports = [new URL(callbackUrl).port, new URL(heartbeatUrl).port].map(Number);
    const connectors = [
      `${tenant}|pagerduty|${pd.url}/v2/enqueue|${S.routingKey}`,
      `${tenant}|opsgenie|${og.url}/v2/alerts|${S.genieKey}`,
      `${tenant}|servicenow|${sn.url}?assignment_group=noc|${SN_USER}:${S.snPass}`,
      `${tenant}|jira|${jira.url}/rest/api/2/issue?project=OPS|${JIRA_EMAIL}:${S.jiraToken}`,
    ].join(',');
    secrets = [
      ...Object.values(S),
      // Their scheme and host (127.0.0.1, like every double's) are not the secret part: the paths are.
      CALLBACK_SECRET, CALLBACK_PATH, HEARTBEAT_PATH,
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
    for (const d of [pd, og, sn, jira, probectl]) await d?.stop();
    await new Promise<void>((r) => (sink ? sink.close(() => r()) : r()));
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
      PROBECTL_NOTIFY_CALLBACK_URL: callbackUrl,
      PROBECTL_NOTIFY_CALLBACK_SECRET: CALLBACK_SECRET,
      PROBECTL_NOTIFY_HEARTBEAT_URL: heartbeatUrl,
      // The webhook's signal is sent inline (not queued for the outbox dispatcher) even on a loaded machine, so its
      // span is the request's child and the link webhook → signal is checked every time.
      PROBECTL_NOTIFY_INBOUND_INLINE_DEADLINE: '10s',
    }, 'all');
    await proc.ready;
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${S.apiToken}`, 'content-type': 'application/json' };

    const opened = await fetch(`${base}/v1/incidents?trace=probe-query-value`, {
      method: 'POST', headers: { ...auth, ...callerHeaders(CALLER, '01') }, body: JSON.stringify({ id: incidentId, title: TITLE, severity: 'critical' }),
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
      method: 'POST', headers: { 'content-type': 'application/json', 'x-probectl-token': S.inbound, ...callerHeaders(OUTSIDERS.webhook, '00') }, body,
    });
    expect(delivered.status).toBe(202);
    const inboundAnswer = (await delivered.json()) as { queued?: boolean };
    await eventually(() => og.alerts.some((a) => a.alias === key && a.status === 'closed'), { what: 'the Opsgenie alert closed' });
    // The resolution came from PagerDuty: probectl is told (the callback), and the heartbeat pinged once at start.
    await eventually(() => probectl.accepted().length >= 1, { what: 'the callback to probectl' });
    await eventually(() => sinkPings >= 1, { what: 'a heartbeat ping' });
    // Outsiders: no token, an unknown route, a wrong inbound token. Each sends its own trace context.
    const refused = [
      await fetch(`${base}/v1/incidents`, { method: 'POST', headers: { 'content-type': 'application/json', ...callerHeaders(OUTSIDERS.unauthorized, '01') }, body: '{}' }),
      await fetch(`${base}/no/such/route`, { headers: callerHeaders(OUTSIDERS.unknownRoute, '01') }),
      await fetch(`${base}/ingest/itsm/pagerduty/pd-in`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-probectl-token': 'wrong-token-value', ...callerHeaders(OUTSIDERS.wrongToken, '01') }, body }),
    ];
    expect(refused.map((r) => r.status)).toEqual([401, 404, 401]);
    // The trace context the Temporal client wrote into the run's history: every start and signal header.
    const history = await stack.client.workflow.getHandle(key).fetchHistory();
    for (const e of history.events ?? []) {
      const start = e.workflowExecutionStartedEventAttributes;
      const signal = e.workflowExecutionSignaledEventAttributes;
      const field = (start ?? signal)?.header?.fields?.['_tracer-data'];
      if (field?.data) headerFields.push({ event: start ? 'start' : `signal ${signal!.signalName}`, data: field.data });
    }

    // SIGTERM: the API and the worker stop, and the tracer provider flushes what it still buffers.
    const exited = new Promise<number | null>((r) => proc!.child.once('exit', (code) => r(code)));
    proc.child.kill('SIGTERM');
    expect(await exited).toBe(0);

    spans = receiver.spans;
    expect(receiver.requests.every((r) => r.path === '/v1/traces' && r.contentType.startsWith('application/json'))).toBe(true);
    expect(spans.every((s) => s.resource['service.name'] === 'probectl-notify-e2e')).toBe(true);

    // The API span of the open, by its route template.
    const post = spans.filter((s) => s.kind === SERVER && s.attributes['http.route'] === '/v1/incidents' && s.attributes['http.request.method'] === 'POST' && s.attributes['http.response.status_code'] !== 401);
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
    // Jira's search answers; its create is refused.
    expect(requests.filter((s) => s.attributes['probectl.provider'] === 'jira').map((s) => s.attributes['http.response.status_code'])).toContain(400);
    // The inbound webhook: its own server span, by template. Its resolve signal span (the request's child: Temporal
    // took it inline within the raised deadline) is the parent of the fan-out's activities, and
    // those of their provider requests: webhook → signal → activity → provider request, one trace.
    const hook = spans.find((s) => s.kind === SERVER && s.attributes['http.route'] === '/ingest/itsm/:provider/:id' && s.attributes['http.response.status_code'] !== 401);
    expect(hook).toBeDefined();
    expect(hook!.attributes['http.response.status_code']).toBe(202);
    const signals = spans.filter((s) => s.name === 'SignalWorkflow:resolve');
    expect(signals).toHaveLength(1);
    const signal = signals[0]!;
    expect(inboundAnswer.queued).toBeUndefined();
    expect(signal.traceId).toBe(hook!.traceId);
    expect(signal.parentSpanId).toBe(hook!.spanId);
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
    expect(failed).toBeDefined();
  });

  test('the start and signal headers in history carry a traceparent only: no baggage, no tracestate, bounded', () => {
    expect(headerFields.map((h) => h.event)).toEqual(expect.arrayContaining(['start', 'signal resolve']));
    for (const h of headerFields) {
      const carried = JSON.parse(Buffer.from(h.data).toString('utf8')) as Record<string, unknown>;
      expect([h.event, Object.keys(carried)]).toEqual([h.event, ['traceparent']]);
      expect(carried.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      // {"traceparent":"00-…"}: 72 bytes, whatever the caller sent.
      expect(h.data.byteLength).toBeLessThanOrEqual(80);
    }
  });

  test('only the token-authenticated caller continues its trace; an outsider is at most a link on a root span of ours', () => {
    const api = spans.find((s) => s.kind === SERVER && s.attributes['http.route'] === '/v1/incidents' && s.attributes['http.request.method'] === 'POST' && s.attributes['http.response.status_code'] === 201);
    expect([api?.traceId, api?.parentSpanId]).toEqual([CALLER.trace, CALLER.span]);
    const outsiderTraces = Object.values(OUTSIDERS).map((o) => o.trace);
    // No span of ours, in any trace, has an outsider's trace id (nor an outsider's span as parent).
    expect(spans.filter((s) => outsiderTraces.includes(s.traceId)).map((s) => s.name)).toEqual([]);
    expect(spans.filter((s) => Object.values(OUTSIDERS).some((o) => s.parentSpanId === o.span)).map((s) => s.name)).toEqual([]);
    // The accepted webhook: a root span of ours (exported though its caller said "not sampled"), the caller linked.
    const hooks = spans.filter((s) => s.kind === SERVER && s.attributes['http.route'] === '/ingest/itsm/:provider/:id' && s.attributes['http.response.status_code'] === 202);
    expect(hooks).toHaveLength(1);
    expect(hooks[0]!.parentSpanId).toBeUndefined();
    expect(hooks[0]!.links).toEqual([{ traceId: OUTSIDERS.webhook.trace, spanId: OUTSIDERS.webhook.span }]);
  });

  test('answers 401 and 404 to unauthenticated requests are not exported', () => {
    const refusedSpans = spans.filter((s) => s.kind === SERVER && [401, 404].includes(Number(s.attributes['http.response.status_code'])));
    expect(refusedSpans.map((s) => s.name)).toEqual([]);
  });

  test('no span holds the incident title a provider echoed, nor an error message', () => {
    const all = spans.map((s) => JSON.stringify([s.name, s.attributes, s.events, s.status ?? null]));
    expect(all.flatMap((t, i) => leakedWindows([TITLE], t, `span ${spans[i]!.name}`))).toEqual([]);
    // The failure is recorded by its type only: Jira's refusal is a non-retryable HTTP 400.
    const failed = spans.filter((s) => s.name === 'RunActivity:openConnector' && s.status?.code === 2);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    for (const f of failed) {
      expect(typeof f.attributes['error.type']).toBe('string');
      expect(f.status?.message).toBe('activity failed');
    }
  });

  test('calls to URLs that are secret whole (the probectl callback, the heartbeat) carry no server address', () => {
    const secretCalls = spans.filter((s) => s.kind === CLIENT && ['probectl', 'heartbeat'].includes(String(s.attributes['probectl.provider'])));
    expect(new Set(secretCalls.map((s) => s.attributes['probectl.provider']))).toEqual(new Set(['probectl', 'heartbeat']));
    for (const s of secretCalls) expect([s.attributes['server.address'], s.attributes['server.port']]).toEqual([undefined, undefined]);
    // Nor does any other span name their port.
    expect(spans.filter((s) => ports.includes(Number(s.attributes['server.port']))).map((s) => s.name)).toEqual([]);
  });
});
