/**
 * An empty summary is no summary, in every builder that reads one. `/v1` accepts `summary: ""`, the workflow passes it
 * on as sent, and a follow-up's stored incident keeps it as sent (src/db/follow-up-store.ts storedIncident); before,
 * the store dropped it, so a ticket opened by the workflow and one opened again from a follow-up differed (the shared
 * description began with an empty line in one and the title in the other). The whole family: every open, update and
 * resolve builder, with and without the other optional fields, gives the same request for `""` as for none.
 */
import { buildCreate as jiraCreate } from '../../../src/providers/jira/build';
import { schema as jiraOptions } from '../../../src/providers/jira/options';
import { buildAliasAction, buildCreate as ogCreate } from '../../../src/providers/opsgenie/build';
import { schema as ogOptions } from '../../../src/providers/opsgenie/options';
import { buildFollowUp, buildTrigger } from '../../../src/providers/pagerduty/build';
import { buildCreate as snCreate } from '../../../src/providers/servicenow/build';
import { buildPostMessage, buildUpdate, buildWebhookPost } from '../../../src/providers/slack/build';
import { buildCardPost } from '../../../src/providers/teams/build';
import type { Incident } from '../../../src/shared/contract';
import type { HttpRequest } from '../../../src/http/types';

const PD = 'https://events.pagerduty.com/v2/enqueue';
const KEY = 'R0UT1NGKEY0000000000000000000001';
const BUILDERS: Record<string, (inc: Incident) => HttpRequest> = {
  'pagerduty trigger': (inc) => buildTrigger(PD, KEY, inc),
  'pagerduty resolve': (inc) => buildFollowUp(PD, KEY, inc, 'resolve'),
  'opsgenie create': (inc) => ogCreate('https://api.opsgenie.com/v2/alerts', 'KEY', inc, ogOptions.parse({})),
  'opsgenie close': (inc) => buildAliasAction('https://api.opsgenie.com/v2/alerts', 'KEY', inc, 'close', 'resolved'),
  'slack webhook': (inc) => buildWebhookPost('https://hooks.slack.com/services/T/B/x', inc),
  'slack webhook, resolved': (inc) => buildWebhookPost('https://hooks.slack.com/services/T/B/x', inc, { note: 'Resolved by erin' }),
  'slack postMessage': (inc) => buildPostMessage('https://slack.com/api', 'xoxb-1', 'C0', inc),
  'slack update': (inc) => buildUpdate('https://slack.com/api', 'xoxb-1', 'C0', '1.000001', inc, { note: 'Resolved by erin' }),
  'teams card': (inc) => buildCardPost('https://x.logic.azure.com/workflows/1?sig=s', inc),
  'teams card, resolved': (inc) => buildCardPost('https://x.logic.azure.com/workflows/1?sig=s', inc, 'Resolved by erin'),
  'servicenow create': (inc) => snCreate('https://acme.service-now.com', 'u:p', inc),
  'jira create': (inc) => jiraCreate('https://acme.atlassian.net/rest/api/2/issue', 'a@b.c:t', inc, jiraOptions.parse({ project: 'OPS' })),
};

const BASE: Incident = { id: 'INC-1', tenantId: 't1', title: 'Packet loss on edge-1', severity: 'critical', openedAt: '2026-01-01T00:00:00Z' };
const OTHERS: Array<[string, Partial<Incident>]> = [
  ['no other optional field', {}],
  ['source, url and labels', { source: 'probe-7', url: 'https://probectl.example/i/1', labels: { team: 'net', site: 'ams' } }],
];

const rows = Object.keys(BUILDERS).flatMap((b) => OTHERS.map(([o, extra]) => [b, o, extra] as const));

test.each(rows)('%s, %s: summary "" builds what no summary builds', (builder, _o, extra) => {
  const build = BUILDERS[builder]!;
  const none = build({ ...BASE, ...extra });
  const empty = build({ ...BASE, ...extra, summary: '' });
  expect(empty).toEqual(none);
  // And a real summary is read (the row would pass for a builder that ignored summaries altogether otherwise).
  if (!/resolve|close|update/.test(builder)) expect(build({ ...BASE, ...extra, summary: 'Loss 40% since 12:00' })).not.toEqual(none);
});
