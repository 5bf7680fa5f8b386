/**
 * Each provider's options schema (src/providers/<name>/options.ts, joined with the shared pacing key by configSpec):
 * the raw option strings of an entry's URL become typed options once, at load; a bad value is refused with a
 * message naming its key and repeating nothing of the value. The loaded connector carries the typed options; the
 * snapshot a workflow gets (toRef) does not.
 */
import { parseConnectors, toRef } from '../../../src/config/connectors';
import { optionProblems } from '../../../src/providers/option-schemas';
import { SHIPPED_PROVIDERS, definitionOf } from '../../../src/providers/registry';
import { DEFAULT_OPTIONS as OPSGENIE_DEFAULTS } from '../../../src/providers/opsgenie/build';
import { DEFAULT_OPTIONS as SERVICENOW_DEFAULTS } from '../../../src/providers/servicenow/build';
import { DEFAULT_PRIORITY as JIRA_PRIORITY } from '../../../src/providers/jira/build';

/** The provider's whole options schema (pacing and its own), as parseConnectors runs it. */
const load = (provider: string, raw: Record<string, string>) => definitionOf(provider).config.schema.safeParse(raw);
const typed = (provider: string, raw: Record<string, string>) => {
  const r = load(provider, raw);
  if (!r.success) throw new Error(`${provider}: refused ${JSON.stringify(optionProblems(r.error))}`);
  return r.data;
};

describe('jira options schema', () => {
  test('every key typed: list, map over the defaults, JSON object, ids; rate as a number', () => {
    expect(
      typed('jira', {
        project: 'OPS', issuetype: 'Incident', resolve_transition: '41', components: 'network; edge', priority_map: 'critical:Blocker;info:Lowest',
        fields: '{"customfield_10010":"x","customfield_2":1}', rate_per_min: '30', min_severity: 'error',
      }),
    ).toEqual({
      ratePerMin: 30,
      settings: {
        project: 'OPS', issueType: 'Incident', resolveTransition: '41', components: ['network', 'edge'],
        priorities: { critical: 'Blocker', error: 'High', warning: 'Medium', info: 'Lowest' }, fields: { customfield_10010: 'x', customfield_2: 1 },
      },
    });
  });

  test('defaults: Task, transition 31, no components, the default priorities, no extra fields, no rate', () => {
    expect(typed('jira', { project: 'OPS' })).toEqual({
      settings: { project: 'OPS', issueType: 'Task', resolveTransition: '31', components: [], priorities: JIRA_PRIORITY, fields: {} },
    });
    expect(typed('jira', { project: 'OPS', issuetype: '', resolve_transition: '' }).settings).toMatchObject({ issueType: 'Task', resolveTransition: '31' });
  });

  test('priority: a fixed name for every severity (over the map), or none', () => {
    expect(typed('jira', { project: 'OPS', priority: 'P1', priority_map: 'info:Lowest' })).toMatchObject({
      settings: { priorities: { critical: 'P1', error: 'P1', warning: 'P1', info: 'P1' } },
    });
    const none = typed('jira', { project: 'OPS', priority: 'None' });
    expect(none).toMatchObject({ settings: { project: 'OPS' } });
    expect(none).toMatchObject({ settings: { priorities: undefined } });
  });
});

describe('opsgenie options schema', () => {
  test('priority map over the defaults, responders by type, tags as a list', () => {
    expect(typed('opsgenie', { priority_map: 'critical:P2;info:P4', responders: 'team:NOC; user: alice@example.com', tags: 'network,edge', rate_per_min: '60' })).toEqual({
      ratePerMin: 60,
      settings: {
        priorities: { critical: 'P2', error: 'P2', warning: 'P3', info: 'P4' },
        responders: [{ type: 'team', name: 'NOC' }, { type: 'user', name: 'alice@example.com' }],
        tags: ['network', 'edge'],
      },
    });
  });

  test('no option: the builders\' defaults', () => {
    expect(typed('opsgenie', {})).toEqual({ settings: OPSGENIE_DEFAULTS });
  });
});

describe('servicenow options schema', () => {
  test('close code, references, urgency and impact maps over the defaults', () => {
    expect(
      typed('servicenow', { close_code: 'Solved (Permanently)', assignment_group: 'abc', caller_id: 'svc', category: 'network', urgency_map: 'warning:1', impact_map: 'warning:3' }),
    ).toEqual({
      settings: {
        closeCode: 'Solved (Permanently)', assignmentGroup: 'abc', callerId: 'svc', category: 'network',
        urgency: { critical: '1', error: '1', warning: '1', info: '3' }, impact: { critical: '1', error: '2', warning: '3', info: '3' },
      },
    });
  });

  test('no option (or empty references): the builders\' defaults, nothing else sent', () => {
    expect(typed('servicenow', {})).toEqual({ settings: SERVICENOW_DEFAULTS });
    expect(typed('servicenow', { assignment_group: '', caller_id: '', category: '' })).toEqual({ settings: SERVICENOW_DEFAULTS });
  });
});

describe('slack, pagerduty and teams options schemas', () => {
  test('slack: the channel, when set', () => {
    expect(typed('slack', { channel: 'C0PROBECTL', rate_per_min: '20' })).toEqual({ ratePerMin: 20, settings: { channel: 'C0PROBECTL' } });
    expect(typed('slack', {})).toEqual({ settings: {} });
  });

  test.each([['pagerduty'], ['teams']])('%s: no options of its own; the shared rate typed', (provider) => {
    expect(typed(provider, { rate_per_min: '6000', min_severity: 'warning' })).toEqual({ ratePerMin: 6000, settings: {} });
    expect(typed(provider, {})).toEqual({ settings: {} });
  });
});

/** A marker inside every bad value that can carry one: no refusal may repeat it. */
const MARK = 'Zq9x';
/** A valid set of options per provider, to which one bad value is added. */
const BASE: Record<string, Record<string, string>> = {
  pagerduty: {}, opsgenie: {}, slack: {}, teams: {}, servicenow: {}, jira: { project: 'OPS' },
};
/** [key, bad value, what the message must say besides the key]. */
const BAD: Record<string, Array<[string, string, string]>> = {
  pagerduty: [],
  teams: [],
  slack: [],
  opsgenie: [
    ['priority_map', `critical:${MARK}`, 'not allowed'],
    ['priority_map', `${MARK}:P1`, 'unknown severity'],
    ['priority_map', ';', 'is empty'],
    ['responders', `${MARK}:NOC`, 'type:name'],
    ['responders', 'team:', 'type:name'],
  ],
  servicenow: [
    ['urgency_map', `critical:${MARK}`, 'not allowed'],
    ['impact_map', MARK, 'unknown severity'],
    ['close_code', ' ', 'empty'],
  ],
  jira: [
    ['project', `${MARK}-!`, 'project key'],
    ['project', '', 'missing'],
    ['resolve_transition', MARK, 'numeric transition id'],
    ['priority', MARK.repeat(20), 'priority name'],
    ['priority', '', 'priority name'],
    ['priority_map', `${MARK}:High`, 'unknown severity'],
    ['priority_map', 'critical', 'not allowed'],
    ['fields', `["${MARK}"]`, 'JSON object'],
    ['fields', `{${MARK}`, 'JSON object'],
  ],
};
const SHARED: Array<[string, string, string]> = [
  ['rate_per_min', MARK, 'whole number'],
  ['rate_per_min', '0', 'whole number'],
  ['rate_per_min', '6001', 'whole number'],
  ['rate_per_min', '1.5', 'whole number'],
];

describe.each(SHIPPED_PROVIDERS.map((p) => [p]))('%s options schema refusals', (provider) => {
  test('the base options load', () => {
    expect(load(provider, BASE[provider]!).success).toBe(true);
  });

  test('every option key the schema types has a bad-value case here, or is free text', () => {
    const freeText = ['tags', 'assignment_group', 'caller_id', 'category', 'channel', 'issuetype', 'components'];
    const checked = new Set([...BAD[provider]!, ...SHARED].map(([k]) => k));
    expect(definitionOf(provider).config.optionKeys.filter((k) => !checked.has(k) && !freeText.includes(k))).toEqual([]);
  });

  test.each([...SHARED, ...BAD[provider]!])('%s=%j is refused, naming the key', (key, value, why) => {
    const r = load(provider, { ...BASE[provider]!, [key]: value });
    expect(r.success).toBe(false);
    const problems = r.success ? [] : optionProblems(r.error);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(key);
    expect(problems[0]).toContain(why);
    expect(problems[0]).not.toContain(MARK);
  });

  test('two bad values: both refused at once', () => {
    const [other] = BAD[provider]!;
    const raw = { ...BASE[provider]!, rate_per_min: '0', ...(other ? { [other[0]]: other[1] } : {}) };
    const r = load(provider, raw);
    expect(r.success ? [] : optionProblems(r.error)).toHaveLength(other ? 2 : 1);
  });
});

describe('at load', () => {
  const CRED = 'a@acme.com:S3cr3tJiraTokenValue';
  test('the connector carries its typed options; the workflow snapshot (toRef) carries none of them', () => {
    const [c] = parseConnectors(
      JSON.stringify([{ tenant: 'acme', provider: 'jira', url: 'https://acme.atlassian.net/rest/api/2/issue?project=OPS&components=a;b&rate_per_min=30', credential: CRED }]),
    );
    expect(c!.ratePerMin).toBe(30);
    expect(c!.settings).toMatchObject({ project: 'OPS', components: ['a', 'b'] });
    expect(c!.options).toEqual({ project: 'OPS', components: 'a;b', rate_per_min: '30' });
    expect(Object.keys(toRef(c!)).sort()).toEqual(['caps', 'id', 'provider']);
  });

  test('a refusal names the entry, tenant, provider and key, never the credential or the URL', () => {
    const url = `https://acme.atlassian.net/rest/api/2/issue?project=OPS&fields=%7B${MARK}`;
    let message = '';
    try {
      parseConnectors(JSON.stringify([{ tenant: 'acme', provider: 'jira', url, credential: CRED }]));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('PROBECTL_NOTIFY_CONNECTORS');
    expect(message).toContain('entry #1 (tenant "acme", provider "jira"): fields must be');
    expect(message).not.toContain(CRED);
    expect(message).not.toContain(MARK);
    expect(message).not.toContain('acme.atlassian.net');
  });
});
