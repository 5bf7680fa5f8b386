import { parseDelivery } from '../../../src/api/inbound/parsers';
import { parseJira } from '../../../src/providers/jira/inbound';
import { parseOpsgenie } from '../../../src/providers/opsgenie/inbound';
import { parsePagerDuty } from '../../../src/providers/pagerduty/inbound';
import { parsePortable } from '../../../src/api/inbound/parsers/portable';
import { parseServiceNow } from '../../../src/providers/servicenow/inbound';
import type { ParseResult } from '../../../src/providers/inbound-types';
import { signalProblems } from '../../../src/shared/validate';

const event = (r: ParseResult) => {
  if (!r.ok) throw new Error(`expected an event, got: ${r.error}`);
  return r.event;
};
const error = (r: ParseResult) => {
  if (r.ok) throw new Error(`expected a malformed result, got ${JSON.stringify(r.event)}`);
  return r.error;
};

describe('portable contract', () => {
  test('resolved / acknowledged with a probectl key or a provider ref', () => {
    expect(event(parsePortable({ external_ref: 'probectl-inc-1', status: 'resolved', actor: 'alice', delivery_id: 'd-1' }))).toEqual({
      kind: 'resolved', refs: { externalRef: 'probectl-inc-1', incidentKey: 'probectl-inc-1' }, actor: 'alice', deliveryId: 'd-1',
    });
    expect(event(parsePortable({ external_ref: 'OPS-7', status: 'acknowledged' }))).toEqual({ kind: 'acknowledged', refs: { externalRef: 'OPS-7' } });
  });
  test('malformed', () => {
    expect(error(parsePortable({ external_ref: '', status: 'resolved' }))).toMatch(/external_ref/);
    expect(error(parsePortable({ external_ref: 'x'.repeat(256), status: 'resolved' }))).toMatch(/external_ref/);
    expect(error(parsePortable({ external_ref: 'probectl-a', status: 'closed' }))).toMatch(/status/);
    expect(error(parsePortable({ external_ref: 'probectl-a' }))).toMatch(/status/);
    expect(error(parsePortable([1]))).toMatch(/object/);
  });
  test('a body with external_ref uses the portable contract on every provider', () => {
    for (const p of ['pagerduty', 'opsgenie', 'servicenow', 'jira'] as const) {
      expect(event(parseDelivery(p, { external_ref: 'probectl-x', status: 'resolved' })).kind).toBe('resolved');
    }
  });
});

describe('ServiceNow', () => {
  test('state 6 or 7, as string or number, resolves; correlation_id and number are refs', () => {
    for (const state of ['6', 6, '7', 7, ' 6 ']) {
      expect(event(parseServiceNow({ sys_id: 'a1b2', state, correlation_id: 'probectl-inc-9', number: 'INC0010001' }))).toEqual({
        kind: 'resolved', refs: { externalRef: 'a1b2', alternateRefs: ['INC0010001'], incidentKey: 'probectl-inc-9' },
      });
    }
    expect(event(parseServiceNow({ sys_id: 'a1b2', state: '6', sys_updated_by: 'bob' })).actor).toBe('bob');
  });
  test('other states are ignored, cancelled (8) included', () => {
    for (const state of ['1', '2', 3, '8', 'resolved']) {
      const e = event(parseServiceNow({ sys_id: 'a1b2', state }));
      expect(e.kind).toBe('ignored');
      expect(e.reason).toMatch(/not resolved/);
    }
  });
  test('a correlation id that is not ours is not an incident key', () => {
    expect(event(parseServiceNow({ sys_id: 's', state: 6, correlation_id: 'other-123' })).refs.incidentKey).toBeUndefined();
    expect(event(parseServiceNow({ sys_id: 's', state: 6, correlation_id: 'probectl-bad id' })).refs.incidentKey).toBeUndefined();
  });
  test('malformed', () => {
    expect(error(parseServiceNow({ state: '6' }))).toMatch(/sys_id/);
    expect(error(parseServiceNow({ sys_id: 's' }))).toMatch(/state/);
    expect(error(parseServiceNow({ sys_id: 's', state: { v: 6 } }))).toMatch(/state/);
    expect(error(parseServiceNow('6'))).toMatch(/object/);
  });
});

const jiraDone = (over: Record<string, unknown> = {}) => ({
  timestamp: 1,
  webhookEvent: 'jira:issue_updated',
  issue_event_type_name: 'issue_generic',
  user: { displayName: 'Carol', accountId: 'acc-1' },
  issue: {
    id: '10001',
    key: 'OPS-12',
    fields: { labels: ['probectl', 'probectl-inc-42'], status: { name: 'Done', statusCategory: { id: 3, key: 'done' } } },
  },
  changelog: { id: '1', items: [{ field: 'status', fieldtype: 'jira', from: '3', fromString: 'In Progress', to: '10001', toString: 'Done' }] },
  ...over,
});

describe('Jira', () => {
  test('a transition to a done status resolves, matched by key, id and label', () => {
    expect(event(parseJira(jiraDone()))).toEqual({
      kind: 'resolved', refs: { externalRef: 'OPS-12', alternateRefs: ['10001'], incidentKey: 'probectl-inc-42' }, actor: 'Carol',
    });
    // no changelog at all (an Automation rule's issue body): the done status decides
    expect(event(parseJira(jiraDone({ changelog: undefined }))).kind).toBe('resolved');
  });
  test('edits that are not a transition to done are ignored', () => {
    const comment = event(parseJira(jiraDone({ changelog: { items: [{ field: 'description' }] } })));
    expect(comment.kind).toBe('ignored');
    expect(comment.reason).toMatch(/not a transition to done/);
    const inProgress = jiraDone();
    (inProgress.issue.fields.status as { statusCategory: { key: string } }).statusCategory.key = 'indeterminate';
    expect(event(parseJira(inProgress)).kind).toBe('ignored');
    expect(event(parseJira(jiraDone({ webhookEvent: 'jira:issue_created' }))).kind).toBe('ignored');
    expect(event(parseJira(jiraDone({ webhookEvent: 'comment_created' }))).kind).toBe('ignored');
  });
  test('the bare probectl label is not an incident key', () => {
    const d = jiraDone();
    d.issue.fields.labels = ['probectl'];
    expect(event(parseJira(d)).refs.incidentKey).toBeUndefined();
  });
  test('malformed', () => {
    expect(error(parseJira({ issue: { key: 'A-1' } }))).toMatch(/webhookEvent/);
    expect(error(parseJira({ webhookEvent: 'jira:issue_updated' }))).toMatch(/issue/);
    expect(error(parseJira({ webhookEvent: 'jira:issue_updated', issue: { fields: {} } }))).toMatch(/issue.key or issue.id/);
  });
});

const og = (action: string, alert: Record<string, unknown> = { alertId: 'og-1', alias: 'probectl-inc-5', username: 'dave' }) => ({
  action, alert, source: { name: 'web', type: 'web' }, integrationName: 'probectl', integrationId: 'i1',
});

describe('Opsgenie', () => {
  test('Close resolves, Acknowledge acknowledges, by alias', () => {
    expect(event(parseOpsgenie(og('Close')))).toEqual({
      kind: 'resolved', refs: { externalRef: 'probectl-inc-5', alternateRefs: ['og-1'], incidentKey: 'probectl-inc-5' }, actor: 'dave',
    });
    expect(event(parseOpsgenie(og('Acknowledge'))).kind).toBe('acknowledged');
  });
  test('other actions are ignored', () => {
    for (const a of ['Create', 'AddNote', 'UnAcknowledge', 'Delete', 'close']) expect(event(parseOpsgenie(og(a))).kind).toBe('ignored');
  });
  test('malformed', () => {
    expect(error(parseOpsgenie({ alert: {} }))).toMatch(/action/);
    expect(error(parseOpsgenie({ action: 'Close' }))).toMatch(/alert/);
    expect(error(parseOpsgenie(og('Close', { message: 'x' })))).toMatch(/alias or alert.alertId/);
  });
});

const pd = (type: string, data: Record<string, unknown> = { id: 'PGR0VU2', type: 'incident', incident_key: 'probectl-inc-7', status: 'resolved' }) => ({
  event: { id: '01BZ0XYZ', event_type: type, resource_type: 'incident', occurred_at: '2025-01-01T00:00:00Z', agent: { summary: 'Erin', type: 'user_reference' }, data },
});

describe('PagerDuty V3', () => {
  test('incident.resolved / incident.acknowledged with a probectl incident key', () => {
    expect(event(parsePagerDuty(pd('incident.resolved')))).toEqual({
      kind: 'resolved', refs: { externalRef: 'probectl-inc-7', alternateRefs: ['PGR0VU2'], incidentKey: 'probectl-inc-7' }, deliveryId: '01BZ0XYZ', actor: 'Erin',
    });
    expect(event(parsePagerDuty(pd('incident.acknowledged'))).kind).toBe('acknowledged');
  });
  test('no probectl incident key, or another event type: ignored', () => {
    const noKey = event(parsePagerDuty(pd('incident.resolved', { id: 'P1', incident_key: 'nagios-123' })));
    expect(noKey.kind).toBe('ignored');
    expect(noKey.reason).toMatch(/no probectl-<id> incident key/);
    expect(event(parsePagerDuty(pd('incident.resolved', { id: 'P1' }))).kind).toBe('ignored');
    expect(event(parsePagerDuty(pd('incident.triggered'))).kind).toBe('ignored');
    expect(event(parsePagerDuty(pd('incident.annotated'))).kind).toBe('ignored');
  });
  test('malformed', () => {
    expect(error(parsePagerDuty({ messages: [] }))).toMatch(/event/);
    expect(error(parsePagerDuty({ event: { data: {} } }))).toMatch(/event_type/);
  });
});

/**
 * The actor a parser emits rides on the resolve / acknowledge signal, and the workflow drops a signal whose actor
 * is longer than 256 UTF-16 code units (signalProblems: "actor is malformed", recorded as signal.rejected). A
 * parser that bounded the actor in characters (code points) instead, and appended "…" to a value it did not even
 * shorten, let a display name with emoji through at up to 511 code units: the sender was answered 202 accepted,
 * the outbox row marked "signalled", and the resolution was lost (seen on the dev server: the incident stayed
 * open with `signal.rejected: actor is malformed`). Every parser, every actor length and mix of characters.
 */
describe('the actor of every parser is one the workflow accepts', () => {
  const SIGNAL = { tenantId: 'acme', source: 'jira', at: '2025-01-01T00:00:00.000Z' };
  const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  const bodies: Array<[string, (actor: string) => ParseResult]> = [
    ['portable', (actor) => parseDelivery('pagerduty', { external_ref: 'probectl-inc-1', status: 'resolved', actor })],
    ['servicenow', (actor) => parseServiceNow({ sys_id: 'a1b2', state: '6', actor })],
    ['jira', (actor) => parseJira({ webhookEvent: 'jira:issue_updated', issue: { key: 'OPS-1', fields: { status: { statusCategory: { key: 'done' } } } }, user: { displayName: actor } })],
    ['opsgenie', (actor) => parseOpsgenie({ action: 'Close', alert: { alias: 'probectl-inc-1', username: actor } })],
    ['pagerduty', (actor) => parsePagerDuty({ event: { id: 'e1', event_type: 'incident.resolved', agent: { summary: actor }, data: { incident_key: 'probectl-inc-1' } } })],
  ];
  const actors = [
    'a'.repeat(300), 'é'.repeat(300), '😀'.repeat(129), '😀'.repeat(200), '😀'.repeat(300),
    `${'a'.repeat(250)}😀😀😀😀`, `${'😀'.repeat(127)}ab`, `Zoë 😀 ${'x'.repeat(400)}`, '𠜎'.repeat(255),
  ];

  test.each(bodies)('%s', (_name, parse) => {
    for (const actor of actors) {
      const out = event(parse(actor)).actor;
      expect(out).toBeDefined();
      expect({ actor: `${actor.slice(0, 12)}… (${actor.length} units)`, problems: signalProblems({ ...SIGNAL, actor: out }, true) })
        .toEqual({ actor: `${actor.slice(0, 12)}… (${actor.length} units)`, problems: [] });
      // Shortened on a character boundary: no lone surrogate, and what is kept is the start of the name.
      expect(LONE_SURROGATE.test(out!)).toBe(false);
      expect(actor.startsWith(out!.replace(/…$/, ''))).toBe(true);
    }
  });

  test('a short actor is kept exactly, without an ellipsis', () => {
    expect(event(parsePortable({ external_ref: 'probectl-inc-1', status: 'resolved', actor: `${'😀'.repeat(128)}` })).actor).toBe('😀'.repeat(128));
    expect(event(parsePortable({ external_ref: 'probectl-inc-1', status: 'resolved', actor: 'a'.repeat(256) })).actor).toBe('a'.repeat(256));
  });
});

/**
 * Nothing a parser emits may hold U+0000: Postgres's text type refuses it, and the route then failed inside its
 * transaction and answered 503 (our fault, retried by the provider for days) for a delivery that is malformed.
 * A reference or delivery id with a NUL is no reference (malformed, or ignored where the payload has another);
 * an actor loses the character.
 */
describe('no parser emits a NUL', () => {
  const N = '\u0000';
  const cases: Array<[string, ParseResult]> = [
    ['portable ref', parseDelivery('jira', { external_ref: `probectl-inc-1${N}`, status: 'resolved' })],
    ['portable delivery id', parseDelivery('jira', { external_ref: 'probectl-inc-1', status: 'resolved', delivery_id: `d${N}` })],
    ['portable actor', parseDelivery('jira', { external_ref: 'probectl-inc-1', status: 'resolved', actor: `a${N}b` })],
    ['servicenow sys_id', parseServiceNow({ sys_id: `a1${N}`, state: '6' })],
    ['servicenow number and delivery id', parseServiceNow({ sys_id: 'a1', number: `INC1${N}`, state: '6', delivery_id: `d${N}` })],
    ['jira key', parseJira({ webhookEvent: 'jira:issue_updated', issue: { key: `OPS-1${N}`, id: `1${N}`, fields: { status: { statusCategory: { key: 'done' } } } } })],
    ['opsgenie alias', parseOpsgenie({ action: 'Close', alert: { alias: `x${N}`, alertId: 'og-1', username: `d${N}` } })],
    ['pagerduty ids', parsePagerDuty({ event: { id: `e${N}`, event_type: 'incident.resolved', agent: { summary: `E${N}` }, data: { id: `P${N}`, incident_key: 'probectl-inc-1' } } })],
  ];
  test.each(cases)('%s', (_name, r) => {
    expect(JSON.stringify(r)).not.toContain('\\u0000');
  });
});
