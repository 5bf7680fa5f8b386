/**
 * The loopback doubles enforce each provider's documented limits in the provider's own unit (UTF-16 units, bytes of
 * the body) and answer its documented rejection, so an over-limit request fails a test instead of passing where the
 * real provider would refuse it (a refusal is permanent: the page or ticket is lost). And the connectors' requests for
 * the worst incidents the API takes are accepted by every double.
 */
import { HttpClient } from '../../../src/http/client';
import { jira } from '../../../src/providers/jira/connector';
import { opsgenie } from '../../../src/providers/opsgenie/connector';
import { pagerduty } from '../../../src/providers/pagerduty/connector';
import { servicenow } from '../../../src/providers/servicenow/connector';
import { slack } from '../../../src/providers/slack/connector';
import { teams } from '../../../src/providers/teams/connector';
import type { CallContext } from '../../../src/providers/types';
import type { Incident } from '../../../src/shared/contract';
import { JiraDouble } from '../../../dev/doubles/jira';
import { OpsgenieDouble } from '../../../dev/doubles/opsgenie';
import { PagerDutyDouble } from '../../../dev/doubles/pagerduty';
import type { DoubleServer } from '../../../dev/doubles/server';
import { ServiceNowDouble } from '../../../dev/doubles/servicenow';
import { SlackDouble } from '../../../dev/doubles/slack';
import { TeamsDouble } from '../../../dev/doubles/teams';
import { connectorFrom } from '../../helpers/retry-table';

const http = new HttpClient({ timeoutMs: 10_000 });
const OG_KEY = 'eb243592-faa2-4ba2-a551-1afdf565c889';
const TEAMS_PATH = '/workflows/abc/triggers/manual/paths/invoke';
const pd = new PagerDutyDouble();
const og = new OpsgenieDouble({ apiKey: OG_KEY, processingMs: 0 });
const sl = new SlackDouble({ webhookPath: '/services/T0/B0/hook', botToken: 'xoxb-t', channels: ['C0'] });
const tm = new TeamsDouble({ sig: 'Sig', path: TEAMS_PATH });
const sn = new ServiceNowDouble({ user: 'u', password: 'p' });
const ji = new JiraDouble({ email: 'a@b.c', apiToken: 't' });
const doubles: DoubleServer[] = [pd, og, sl, tm, sn, ji];
beforeAll(async () => {
  await Promise.all(doubles.map((d) => d.start()));
});
afterAll(async () => {
  await Promise.all(doubles.map((d) => d.stop()));
  await http.close();
});

const EMOJI = '😀'; // 1 code point, 2 UTF-16 units: over a limit in units while under it in code points
/** `n` UTF-16 units of emoji (n even). */
const units = (n: number) => EMOJI.repeat(n / 2);

async function send(d: DoubleServer, method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(`${d.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

const pdTrigger = (summary: string, extra: Record<string, unknown> = {}) =>
  ({ routing_key: 'R0UT1NGKEY', event_action: 'trigger', dedup_key: `k-${Math.random()}`, payload: { summary, source: 's', severity: 'critical', custom_details: extra } });
/** A trigger padded to exactly `bytes` (one event, measured once: its dedup key is random, so its length varies). */
const pdEventOf = (bytes: number) => {
  const base = JSON.stringify(pdTrigger('s', { pad: '' }));
  const body = base.replace('"pad":""', `"pad":"${'x'.repeat(bytes - base.length)}"`);
  expect(Buffer.byteLength(body)).toBe(bytes);
  return body;
};
const ogCreate = (over: Record<string, unknown>) => ({ message: 'm', alias: `a-${Math.random()}`, ...over });
const OG_AUTH = { authorization: `GenieKey ${OG_KEY}` };
const slackBody = (over: { header?: string; section?: string; text?: string; url?: string }) => ({
  channel: 'C0',
  text: over.text ?? 't',
  blocks: [
    { type: 'header', text: { type: 'plain_text', text: over.header ?? 'h' } },
    { type: 'section', text: { type: 'mrkdwn', text: over.section ?? 's' } },
    ...(over.url ? [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'b' }, url: over.url }] }] : []),
  ],
});
const SLACK_API = { authorization: 'Bearer xoxb-t' };
const teamsPost = (text: string) => ({
  type: 'message',
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'RichTextBlock', inlines: [{ type: 'TextRun', text }] }] } }],
});
const SN_AUTH = { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` };
const JIRA_AUTH = { authorization: `Basic ${Buffer.from('a@b.c:t').toString('base64')}` };
const jiraCreate = (summary: string, description?: string) =>
  ({ fields: { project: { key: 'OPS' }, issuetype: { name: 'Task' }, summary, ...(description !== undefined ? { description } : {}), labels: ['probectl'] } });

interface Case {
  name: string;
  run: () => Promise<{ status: number; text: string }>;
  /** The documented answer: a status, and what the body says. */
  expect: { status: number; says?: RegExp };
}

const cases: Case[] = [
  // PagerDuty Events v2: summary 1024 (UTF-16), one event at most 512 KB → 400 "invalid event"
  { name: 'PagerDuty summary of 1024 units', run: () => send(pd, 'POST', '/v2/enqueue', pdTrigger(units(1024))), expect: { status: 202 } },
  { name: 'PagerDuty summary of 1026 units (513 code points)', run: () => send(pd, 'POST', '/v2/enqueue', pdTrigger(units(1026))), expect: { status: 400, says: /summary/ } },
  { name: 'PagerDuty event of 512 KB + 1 byte', run: () => send(pd, 'POST', '/v2/enqueue', pdEventOf(512 * 1024 + 1)), expect: { status: 400, says: /larger than 524288 bytes/ } },
  { name: 'PagerDuty event of exactly 512 KB', run: () => send(pd, 'POST', '/v2/enqueue', pdEventOf(512 * 1024)), expect: { status: 202 } },
  // Opsgenie: 422 "Request body is not processable" with the field's message
  { name: 'Opsgenie message of 130 units', run: () => send(og, 'POST', '/v2/alerts', ogCreate({ message: units(130) }), OG_AUTH), expect: { status: 202 } },
  { name: 'Opsgenie message of 132 units (66 code points)', run: () => send(og, 'POST', '/v2/alerts', ogCreate({ message: units(132) }), OG_AUTH), expect: { status: 422, says: /Message can not be longer/ } },
  { name: 'Opsgenie description of 15,002 units', run: () => send(og, 'POST', '/v2/alerts', ogCreate({ description: units(15_002) }), OG_AUTH), expect: { status: 422, says: /Description/ } },
  { name: 'Opsgenie tag of 52 units', run: () => send(og, 'POST', '/v2/alerts', ogCreate({ tags: [units(52)] }), OG_AUTH), expect: { status: 422, says: /Tags can not be longer/ } },
  { name: 'Opsgenie entity of 514 units', run: () => send(og, 'POST', '/v2/alerts', ogCreate({ entity: units(514) }), OG_AUTH), expect: { status: 422, says: /Entity/ } },
  { name: 'Opsgenie details of 8,001 characters', run: () => send(og, 'POST', '/v2/alerts', ogCreate({ details: { k: 'x'.repeat(8_001 - 8) } }), OG_AUTH), expect: { status: 422, says: /Details/ } },
  { name: 'Opsgenie details of 8,000 characters', run: () => send(og, 'POST', '/v2/alerts', ogCreate({ details: { k: 'x'.repeat(8_000 - 8) } }), OG_AUTH), expect: { status: 202 } },
  // Slack: invalid_blocks / msg_too_long (webhook: 400 plain text; Web API: 200 ok:false)
  { name: 'Slack webhook header of 150 units', run: () => send(sl, 'POST', '/services/T0/B0/hook', slackBody({ header: units(150) })), expect: { status: 200, says: /^ok$/ } },
  { name: 'Slack webhook header of 152 units', run: () => send(sl, 'POST', '/services/T0/B0/hook', slackBody({ header: units(152) })), expect: { status: 400, says: /^invalid_blocks$/ } },
  { name: 'Slack webhook section of 3,002 units', run: () => send(sl, 'POST', '/services/T0/B0/hook', slackBody({ section: units(3_002) })), expect: { status: 400, says: /^invalid_blocks$/ } },
  { name: 'Slack webhook button url of 3,001', run: () => send(sl, 'POST', '/services/T0/B0/hook', slackBody({ url: `https://x/${'a'.repeat(2_991)}` })), expect: { status: 400, says: /^invalid_blocks$/ } },
  { name: 'Slack webhook text of 40,002 units', run: () => send(sl, 'POST', '/services/T0/B0/hook', slackBody({ text: units(40_002) })), expect: { status: 400, says: /^msg_too_long$/ } },
  { name: 'Slack API header of 152 units', run: () => send(sl, 'POST', '/api/chat.postMessage', slackBody({ header: units(152) }), SLACK_API), expect: { status: 200, says: /"ok":false,"error":"invalid_blocks"/ } },
  { name: 'Slack API text of 40,002 units', run: () => send(sl, 'POST', '/api/chat.postMessage', slackBody({ text: units(40_002) }), SLACK_API), expect: { status: 200, says: /"error":"msg_too_long"/ } },
  // Teams: the real service answers 202 and drops a post over ~28 KB; the double answers 413 so a test sees it
  { name: 'Teams post of 28 KB + 1 byte', run: () => send(tm, 'POST', `${TEAMS_PATH}?sig=Sig`, teamsPost('x'.repeat(28 * 1024 + 1 - JSON.stringify(teamsPost('')).length))), expect: { status: 413, says: /MessageSizeExceeded/ } },
  { name: 'Teams post of 28 KB', run: () => send(tm, 'POST', `${TEAMS_PATH}?sig=Sig`, teamsPost('x'.repeat(28 * 1024 - JSON.stringify(teamsPost('')).length))), expect: { status: 202 } },
  // ServiceNow: 400 "Invalid field length" (stricter than an instance, which cuts)
  { name: 'ServiceNow short_description of 160 units', run: () => send(sn, 'POST', '/api/now/table/incident', { short_description: units(160) }, SN_AUTH), expect: { status: 201 } },
  { name: 'ServiceNow short_description of 162 units (81 code points)', run: () => send(sn, 'POST', '/api/now/table/incident', { short_description: units(162) }, SN_AUTH), expect: { status: 400, says: /short_description/ } },
  { name: 'ServiceNow description of 4,002 units', run: () => send(sn, 'POST', '/api/now/table/incident', { short_description: 's', description: units(4_002) }, SN_AUTH), expect: { status: 400, says: /description/ } },
  {
    name: 'ServiceNow close_notes of 4,002 units',
    run: async () => {
      const created = JSON.parse((await send(sn, 'POST', '/api/now/table/incident', { short_description: 's' }, SN_AUTH)).text).result;
      return send(sn, 'PATCH', `/api/now/table/incident/${created.sys_id}`, { state: '6', close_code: 'Solution provided', close_notes: units(4_002) }, SN_AUTH);
    },
    expect: { status: 400, says: /close_notes/ },
  },
  // Jira: 400 with the field's error
  { name: 'Jira summary of 254 units', run: () => send(ji, 'POST', '/rest/api/2/issue', jiraCreate(units(254)), JIRA_AUTH), expect: { status: 201 } },
  { name: 'Jira summary of 256 units (128 code points)', run: () => send(ji, 'POST', '/rest/api/2/issue', jiraCreate(units(256)), JIRA_AUTH), expect: { status: 400, says: /"summary":"Summary must be less than 255/ } },
  ...['\n', '\r', '\u2028', '\u2029', '\u0085', '\v', '\f'].map((c): Case => ({
    name: `Jira summary with U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`, run: () => send(ji, 'POST', '/rest/api/2/issue', jiraCreate(`a${c}b`), JIRA_AUTH), expect: { status: 400, says: /newline/ },
  })),
  { name: 'Jira description of 32,768 units', run: () => send(ji, 'POST', '/rest/api/2/issue', jiraCreate('s', units(32_768)), JIRA_AUTH), expect: { status: 400, says: /"description"/ } },
];

describe('each double answers an over-limit request with the documented rejection (and takes one at the limit)', () => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const got = await c.run();
    expect(got.status).toBe(c.expect.status);
    if (c.expect.says) expect(got.text).toMatch(c.expect.says);
  });
});

// ---- the connectors' requests for the worst incidents are accepted ------------------------------------------------

const fill = (c: string, n: number) => c.repeat(Math.ceil(n / c.length)).slice(0, n);
const worst = (c: string, id: string): Incident => ({
  id, tenantId: 'acme', title: fill(c, 4096), severity: 'critical', summary: fill(c, 65_536), source: fill(c, 255),
  url: `https://probectl.example.com/${fill(c === '\u0001' || c === '\u2028' ? '中' : c, 2048 - 29)}`, openedAt: '2026-03-01T12:00:00.000Z',
  labels: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`${String(i).padStart(2, '0')}${fill(c, 126)}`, fill(c, 1024)])),
});
const WORST_CHARS: Array<[string, string]> = [['control', '\u0001'], ['emoji', EMOJI], ['cjk', '中'], ['amp', '&'], ['wiki', '['], ['ls', '\u2028'], ['zwj', '👩\u200d👩\u200d👧\u200d👦']];
const by = { source: 'api', actor: fill('\u0001', 256), reason: fill('&', 1000) };
const ctx = (entry: string): CallContext<any> => ({ connector: connectorFrom(entry), http, attempt: 1 });

describe('the worst incidents the API takes: opened and resolved on every double', () => {
  test.each(WORST_CHARS)('%s', async (name, c) => {
    const inc = (p: string) => worst(c, `${p}-${name}`);
    const entries = {
      pagerduty: `acme|pagerduty|${pd.url}/v2/enqueue|R0UT1NGKEYworst0000000000000001`,
      opsgenie: `acme|opsgenie|${og.url}/v2/alerts?tags=${encodeURIComponent(fill(EMOJI, 60))}|${OG_KEY}`,
      slackHook: `acme|slack|${sl.url}/services/T0/B0/hook|`,
      slackApi: `acme|slack|${sl.url}/api/chat.postMessage?channel=C0|xoxb-t`,
      teams: `acme|teams|${tm.url}${TEAMS_PATH}?sig=Sig|`,
      servicenow: `acme|servicenow|${sn.url}|u:p`,
      jira: `acme|jira|${ji.url}/rest/api/2/issue?project=OPS|a@b.c:t`,
    };
    const before = doubles.map((d) => d.requests.length);
    const pdLink = await pagerduty.open(ctx(entries.pagerduty), inc('pd'));
    await pagerduty.resolve(ctx(entries.pagerduty), inc('pd'), pdLink, by);
    const ogLink = await opsgenie.open(ctx(entries.opsgenie), inc('og'));
    await opsgenie.acknowledge!(ctx(entries.opsgenie), inc('og'), ogLink, by.actor);
    await opsgenie.resolve(ctx(entries.opsgenie), inc('og'), ogLink, by);
    for (const e of [entries.slackHook, entries.slackApi]) {
      const link = await slack.open(ctx(e), inc('sl'));
      await slack.resolve(ctx(e), inc('sl'), link, by);
    }
    const tmLink = await teams.open(ctx(entries.teams), inc('tm'));
    await teams.resolve(ctx(entries.teams), inc('tm'), tmLink, by);
    const snLink = await servicenow.open(ctx(entries.servicenow), inc('sn'));
    await servicenow.resolve(ctx(entries.servicenow), inc('sn'), snLink, by);
    const jiLink = await jira.open(ctx(entries.jira), inc('ji'));
    await jira.resolve(ctx(entries.jira), inc('ji'), jiLink, by);
    // every request reached its double (none refused: a refusal throws above)
    expect(doubles.map((d, i) => d.requests.length > before[i]!)).toEqual(doubles.map(() => true));
    expect(pd.alerts.find((a) => a.dedupKey === `probectl-pd-${name}`)?.status).toBe('resolved');
    expect(tm.posts.length).toBeGreaterThanOrEqual(2);
  });
});
