import { slack } from '../../../src/providers/slack/connector';
import {
  MAX_HEADER, buildPostMessage, buildUpdate, buildWebhookPost, parseApiResult, parseMessageRef,
} from '../../../src/providers/slack/build';
import {
  ALL_STATUSES, GOLDEN_INCIDENT, asFixture, callContext, connectorFrom, fakeHttp, genericOutcome, json, loadFixture, outcomeOf, text,
} from '../../helpers/retry-table';

const HOOK = 'https://hooks.slack.com/services/T0ACME/B0ACME/golden';
const API = 'https://slack.com/api/chat.postMessage';
const TOKEN = 'xoxb-golden-token';
const RESOLVED = { note: 'Resolved by alice (via api): fixed' };

describe('Slack builders', () => {
  test('golden webhook and Web API requests', () => {
    expect(asFixture(buildWebhookPost(HOOK, GOLDEN_INCIDENT))).toEqual(loadFixture('slack', 'webhook-opened'));
    expect(asFixture(buildWebhookPost(HOOK, GOLDEN_INCIDENT, RESOLVED))).toEqual(loadFixture('slack', 'webhook-resolved'));
    expect(asFixture(buildPostMessage(API, TOKEN, 'C0PROBECTL', GOLDEN_INCIDENT))).toEqual(loadFixture('slack', 'api-post'));
    expect(asFixture(buildPostMessage(API, TOKEN, 'C0PROBECTL', GOLDEN_INCIDENT, RESOLVED, '1503435956.000247'))).toEqual(loadFixture('slack', 'api-thread-reply'));
    expect(asFixture(buildUpdate(API, TOKEN, 'C0PROBECTL', '1503435956.000247', GOLDEN_INCIDENT, RESOLVED))).toEqual(loadFixture('slack', 'api-update'));
  });

  test('a long title is cut to the header limit; text fallback always present; mrkdwn escaped', () => {
    const b = JSON.parse(buildWebhookPost(HOOK, { ...GOLDEN_INCIDENT, title: 'Z'.repeat(1000), summary: 'a <b> & c' }).body!);
    expect(Array.from(b.blocks[0].text.text as string).length).toBe(MAX_HEADER);
    expect(b.blocks[0].text.text.endsWith('…')).toBe(true);
    expect(typeof b.text).toBe('string');
    expect(b.blocks[2].text.text).toBe('a &lt;b&gt; &amp; c');
  });

  test('message refs and Web API answers parse', () => {
    expect(parseMessageRef('C123:1503435956.000247')).toEqual({ channel: 'C123', ts: '1503435956.000247' });
    expect(parseMessageRef('probectl-INC-1')).toBeUndefined();
    expect(parseApiResult({ ok: true, channel: 'C1', ts: '1.2' })).toEqual({ ok: true, channel: 'C1', ts: '1.2' });
    expect(parseApiResult({ ok: false, error: 'ratelimited' })).toEqual({ ok: false, error: 'ratelimited' });
    expect(parseApiResult({ nope: 1 })).toBeUndefined();
  });
});

describe('Slack connector', () => {
  const hook = connectorFrom(`acme|slack|${HOOK}|`);
  const api = connectorFrom(`acme|slack|${API}?channel=C0PROBECTL|${TOKEN}`);
  const posted = json(200, { ok: true, channel: 'C0PROBECTL', ts: '1503435956.000247' });

  test('Web API: opened keeps channel:ts; resolve edits the original, then replies in its thread', async () => {
    const f = fakeHttp(() => posted);
    const out = await slack.open(callContext(api, f.http), GOLDEN_INCIDENT);
    expect(out.externalRef).toBe('C0PROBECTL:1503435956.000247');
    await slack.resolve(callContext(api, f.http), GOLDEN_INCIDENT, out, { source: 'api', actor: 'alice' });
    const [, update, reply] = f.requests.map((r) => ({ path: new URL(r.url).pathname, body: JSON.parse(r.body!) }));
    expect(update!.path).toBe('/api/chat.update');
    expect(update!.body).toMatchObject({ channel: 'C0PROBECTL', ts: '1503435956.000247' });
    expect(reply!.path).toBe('/api/chat.postMessage');
    expect(reply!.body.thread_ts).toBe('1503435956.000247');
    expect(f.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  test('Web API: an original that cannot be edited still gets the thread reply; no ref → a plain post', async () => {
    const f = fakeHttp((req) => (req.url.endsWith('chat.update') ? json(200, { ok: false, error: 'message_not_found' }) : posted));
    await slack.resolve(callContext(api, f.http), GOLDEN_INCIDENT, { externalRef: 'C0PROBECTL:1.2' }, { source: 'api' });
    expect(f.requests).toHaveLength(2);
    const g = fakeHttp(() => posted);
    await slack.resolve(callContext(api, g.http), GOLDEN_INCIDENT, {}, { source: 'api' });
    expect(g.requests).toHaveLength(1);
    expect(JSON.parse(g.requests[0]!.body!).thread_ts).toBeUndefined();
  });

  test('ok:false: ratelimited retried after its Retry-After, transient errors retried, the rest permanent', async () => {
    const run = async (error: string, headers: Record<string, string> = {}) => {
      const f = fakeHttp(() => json(200, { ok: false, error }, headers));
      return outcomeOf(() => slack.open(callContext(api, f.http), GOLDEN_INCIDENT));
    };
    const limited = await run('ratelimited', { 'retry-after': '7' });
    expect(limited.outcome).toBe('retried');
    expect(limited.failure?.nextRetryDelay).toBe(7000);
    expect((await run('internal_error')).outcome).toBe('retried');
    for (const e of ['channel_not_found', 'not_in_channel', 'is_archived', 'msg_too_long', 'no_text']) expect((await run(e)).outcome).toBe('permanent');
    const auth = await run('invalid_auth');
    expect(auth.outcome).toBe('permanent');
    expect(auth.failure?.type).toBe('AuthRejected');
  });

  test('webhook: 200 "ok" is success; plain-text error bodies are permanent; the ref is the incident key', async () => {
    const ok = fakeHttp(() => text(200, 'ok'));
    expect(await slack.open(callContext(hook, ok.http), GOLDEN_INCIDENT)).toEqual({ externalRef: 'probectl-INC-2041' });
    expect(ok.requests[0]!.headers.authorization).toBeUndefined();
    for (const [status, body] of [[400, 'invalid_payload'], [403, 'invalid_token'], [404, 'no_service'], [410, 'channel_is_archived'], [200, 'no_text']] as const) {
      const f = fakeHttp(() => text(status, body));
      const r = await outcomeOf(() => slack.open(callContext(hook, f.http), GOLDEN_INCIDENT));
      expect([status, r.outcome]).toEqual([status, 'permanent']);
      expect(r.failure?.message).not.toContain('golden');
    }
  });

  // A 2xx body that is not one of Slack's error codes (a proxy's page, a cut body) counts as delivered: the post most
  // likely went out, and a refusal would cost it its resolution post (docs/faults.md, F-3).
  test.each([
    ['ok', 'delivered'], ['', 'delivered'], ['  ok\n', 'delivered'],
    ['<html><body>502 Bad Gateway (but 2xx)</body></html>', 'delivered'], ['OK', 'delivered'], ['{"ok":true}', 'delivered'], ['ok_', 'delivered'],
    ['success', 'delivered'], ['accepted', 'delivered'], ['true', 'delivered'], ['no_service_id', 'permanent'],
    ['invalid_payload', 'permanent'], ['no_text', 'permanent'], ['channel_is_archived', 'permanent'], ['action_prohibited', 'permanent'], ['no_service', 'permanent'],
  ] as const)('webhook 200 with body %j: %s', async (body, want) => {
    const f = fakeHttp(() => text(200, body));
    const r = await outcomeOf(() => slack.open(callContext(hook, f.http), GOLDEN_INCIDENT));
    expect(r.outcome).toBe(want === 'delivered' ? 'ok' : 'permanent');
    if (want === 'permanent') expect(r.failure?.type).toBe('ProviderRejected');
  });

  test.each([['webhook', hook], ['web api', api]] as const)('every status 100–599 (%s)', async (_mode, c) => {
    const got: Record<number, string> = {};
    const want: Record<number, string> = {};
    for (const s of ALL_STATUSES) {
      const f = fakeHttp(() => (s < 300 ? (c === hook ? text(s, 'ok') : json(s, { ok: true, channel: 'C0PROBECTL', ts: '1.2' })) : text(s, 'error')));
      got[s] = (await outcomeOf(() => slack.open(callContext(c, f.http), GOLDEN_INCIDENT))).outcome;
      want[s] = genericOutcome(s);
    }
    expect(got).toEqual(want);
  });
});
