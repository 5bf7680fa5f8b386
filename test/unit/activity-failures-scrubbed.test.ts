/**
 * What a connector activity hands Temporal carries none of the connector's secrets, whatever the provider answered:
 * every provider × every call the activities make (open, acknowledge, resolve, read back) × answers whose every string
 * field is a secret (the credential, and for webhook providers the URL's secret path) in each encoding a provider echoes
 * (raw, base64, URL-encoded, JSON-escaped) × one answer of the call's flow (the first, second, ... or none) a refusal or an outage × Slack's `ok` either way.
 * Whatever the provider code makes of such an answer — an id, a key, a transition id in a message (found: a Jira
 * transition id went into the failure message unscrubbed) — the failure's message, stack and causes, and the value
 * returned, hold no 8-character window of any secret (src/http/failures.ts scrubbedFailure, applied by
 * src/activities/connector-activities.ts). Pure: the activities run in a hand-made activity context over a fake HTTP
 * client.
 */
import { asyncLocalStorage, Context, type Info } from '@temporalio/activity';
import { createConnectorActivities } from '../../src/activities/connector-activities';
import { Pacer } from '../../src/activities/pacing';
import { ConnectorDirectory } from '../../src/config/connectors';
import type { HttpRequest, HttpResponse } from '../../src/http/types';
import { secretMaterial } from '../../src/http/scrub';
import { connectorFor } from '../../src/providers/registry';
import { secretsOf } from '../../src/providers/types';
import { leakedWindows } from '../helpers/leaks';
import { GOLDEN_INCIDENT, connectorFrom, fakeHttp } from '../helpers/retry-table';

const TENANT = GOLDEN_INCIDENT.tenantId;
const ENTRIES = {
  pagerduty: `${TENANT}|pagerduty|https://events.pagerduty.com/v2/enqueue|R0UTINGkeyPlanted0123456789abcdef`,
  opsgenie: `${TENANT}|opsgenie|https://api.opsgenie.com/v2/alerts|GenieKeyPlanted-0123-4567-89ab-cdef01234567`,
  slack: `${TENANT}|slack|https://hooks.slack.com/services/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|`,
  teams: `${TENANT}|teams|https://prod-00.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=TeamsSigPlanted0123456789abcdefABCDEF|`,
  servicenow: `${TENANT}|servicenow|https://acme.service-now.com|svc-notify:SnPasswordPlanted0123`,
  jira: `${TENANT}|jira|https://acme.atlassian.net/rest/api/2/issue?project=OPS&resolve_transition=31|alice@acme.com:ATATT3xJiraTokenPlanted0123`,
} as const;
type Provider = keyof typeof ENTRIES;

const ENCODINGS: Record<string, (s: string) => string> = {
  raw: (s) => s,
  base64: (s) => Buffer.from(s).toString('base64'),
  url: (s) => encodeURIComponent(s),
  'json-escaped': (s) => JSON.stringify(s).slice(1, -1).replace(/\//g, '\\/'),
};

/** An answer whose every string field (of every shape the six providers read) is `v`. */
function echoing(v: string, ok: boolean, resultAsList: boolean): unknown {
  const row = { sys_id: v, number: v, state: '2', correlation_id: v, sys_updated_on: v };
  return {
    ok, error: v, id: v, key: v, self: v, ts: v, channel: v, message: v, status: v, dedup_key: v, requestId: v, took: 0.1,
    errorMessages: [v], errors: { summary: v },
    transitions: [{ id: v, name: v, to: { statusCategory: { key: 'done' } } }],
    issues: [{ id: v, key: v, self: v, fields: { status: { statusCategory: { key: 'indeterminate' } }, labels: [v] } }], isLast: true, total: 1,
    result: resultAsList ? [row] : row,
    data: { alertId: v, alias: v, status: v, success: false, isSuccess: false, action: v, tinyId: v },
  };
}

function activityContext(attempt: number): Context {
  const info = {
    isLocal: false, attempt, scheduledTimestampMs: 1_000, currentAttemptScheduledTimestampMs: 1_000, heartbeatTimeoutMs: 30_000,
    activityType: 'openConnector', activityId: '1', workflowExecution: { workflowId: 'probectl-x', runId: 'r' }, taskQueue: 'q',
  } as unknown as Info;
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const meter = { createCounter: () => ({ add() {} }), createHistogram: () => ({ record() {} }), createGauge: () => ({ set() {} }), withTags() { return this; } };
  return new Context(info, new Promise<never>(() => undefined), new AbortController().signal, () => undefined, undefined, quiet as never, meter as never, {} as never);
}

/** Every message and stack along the failure's cause chain. */
function failureText(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) parts.push(e.message, e.stack ?? '');
  if (!(err instanceof Error)) parts.push(String(err));
  return parts.join('\n');
}

/**
 * Which of the first four answers of the call's flow are not a success (a bit each: mask 5 = the first and the third),
 * and what they are instead; every later answer is a success. So every path through a flow of up to four requests.
 */
const STATUSES = [400, 404, 409, 410, 500];
const MASKS = Array.from({ length: 16 }, (_, m) => m);
const failing = (mask: number, n: number) => n >= 1 && n <= 4 && (mask & (1 << (n - 1))) !== 0;
type Op = 'open' | 'acknowledge' | 'resolve' | 'check';
const OPS: Op[] = ['open', 'acknowledge', 'resolve', 'check'];

const cases: Array<[Provider, Op, string, number, number, boolean, boolean]> = [];
for (const p of Object.keys(ENTRIES) as Provider[]) {
  const c = connectorFor(p)!;
  for (const op of OPS) {
    if (op === 'acknowledge' && !c.acknowledge) continue;
    if (op === 'check' && !c.status) continue;
    for (const enc of Object.keys(ENCODINGS)) for (const at of MASKS) for (const status of at === 0 ? [200] : STATUSES) for (const ok of [true, false]) for (const list of [false, true]) cases.push([p, op, enc, at, status, ok, list]);
  }
}

describe('connector activities: no secret leaves in a failure or a result, whatever the answer echoes', () => {
  test('the table covers every provider and every call it supports', () => {
    const seen = new Set(cases.map(([p, op]) => `${p}:${op}`));
    expect(seen.size).toBeGreaterThanOrEqual(6 * 2 + 2); // open and resolve everywhere, plus acknowledge / read back where supported
    expect(cases.length).toBe(seen.size * Object.keys(ENCODINGS).length * (1 + (MASKS.length - 1) * STATUSES.length) * 4);
  });

  test.each(Object.keys(ENTRIES) as Provider[])('%s: every call × encoding × status × body shape', async (provider) => {
    const config = connectorFrom(ENTRIES[provider]);
    const secrets = secretsOf(config).flatMap((s) => secretMaterial(s)).filter((s) => s.length >= 8);
    expect(secrets.length).toBeGreaterThan(0);
    const leaks: string[] = [];
    let failed = 0;
    const runs: Array<() => Promise<void>> = [];
    for (const [p, op, enc, at, status, ok, list] of cases) {
      if (p !== provider) continue;
      for (const secret of secrets) {
        const planted = ENCODINGS[enc]!(secret);
        const answer = (_req: HttpRequest, n: number): HttpResponse => ({
          status: failing(at, n) ? status : 200, headers: { 'content-type': 'application/json' }, text: JSON.stringify(echoing(planted, ok, list)),
        });
        const { http } = fakeHttp(answer);
        const activities = createConnectorActivities({ connectors: new ConnectorDirectory([config]), http, pacer: new Pacer({ maxWaitMs: 1_000 }) });
        const base = { incident: GOLDEN_INCIDENT, connectorId: config.id };
        const call: () => Promise<unknown> = {
          open: () => activities.openConnector(base),
          acknowledge: () => activities.acknowledgeConnector({ ...base, externalRef: 'REF-1' }),
          resolve: () => activities.resolveConnector({ ...base, externalRef: 'REF-1', resolution: { source: 'api', at: '2026-12-03T12:00:00.000Z' } } as never),
          check: () => activities.checkConnector({ ...base, externalRef: 'REF-1' } as never),
        }[op];
        const place = `${op} ${enc} answers ${at.toString(2).padStart(4, '0').split('').reverse().join('')} were ${status} ok=${ok} list=${list}`;
        runs.push(async () => {
          try {
            const value = await asyncLocalStorage.run(activityContext(2), call);
            leaks.push(...leakedWindows(secrets, JSON.stringify(value ?? null), `${place} result`));
          } catch (err) {
            failed++;
            leaks.push(...leakedWindows(secrets, failureText(err), `${place} failure`));
          }
        });
      }
    }
    // Concurrently, in batches: Opsgenie's status polls wait real (short) timers.
    for (let i = 0; i < runs.length; i += 500) await Promise.all(runs.slice(i, i + 500).map((r) => r()));
    // The table reaches the failure paths it is about (a table where nothing failed would test only results).
    expect(failed).toBeGreaterThan(0);
    expect([...new Set(leaks)].slice(0, 20)).toEqual([]);
  });
});
