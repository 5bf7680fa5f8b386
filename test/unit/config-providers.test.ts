import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseConnectors } from '../../src/config/connectors';
import { ConfigError } from '../../src/config/errors';

const PD_KEY = 'e93facc04764012d7bfb002500d5d1a6';
const JIRA_TOKEN = 'ATATT3xFfGF0T4nS3cretJiraT0kenValue=ABC123';

function problemsOf(raw: string): string {
  try {
    parseConnectors(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('connector entries per provider', () => {
  test('the seed examples parse', () => {
    const [pd, jira] = parseConnectors(
      `acme|pagerduty|https://events.pagerduty.com/v2/enqueue|${PD_KEY},` +
        `acme|jira|https://acme.atlassian.net/rest/api/2/issue?project=OPS&resolve_transition=31|alice@acme.com:${JIRA_TOKEN}`,
    );
    expect(pd).toMatchObject({ id: 'pagerduty', provider: 'pagerduty', tenantId: 'acme' });
    expect(pd!.credential.reveal()).toBe(PD_KEY);
    expect(jira).toMatchObject({ id: 'jira', options: { project: 'OPS', resolve_transition: '31' } });
    expect(jira!.url.reveal()).toBe('https://acme.atlassian.net/rest/api/2/issue');
  });

  test('every provider in its documented shapes parses', () => {
    const entries = [
      `a|pagerduty|https://events.eu.pagerduty.com/v2/enqueue|${PD_KEY}`,
      'a|opsgenie|https://api.opsgenie.com/v2/alerts?priority_map=critical:P1;warning:P3&tags=network;edge&responders=team:NOC|eb243592-faa2-4ba2-a551-1afdf565c889|og-us',
      'a|opsgenie|https://api.eu.opsgenie.com/v2/alerts|eb243592-faa2-4ba2-a551-1afdf565c889|og-eu',
      'a|opsgenie|https://api.atlassian.com/jsm/ops/integration/v2/alerts|eb243592-faa2-4ba2-a551-1afdf565c889|jsm',
      'a|slack|https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX||hook',
      'a|slack|https://slack.com/api/chat.postMessage?channel=C0PROBECTL&rate_per_min=30|xoxb-123-456-abc|bot',
      'a|teams|https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=s1g|',
      'a|servicenow|https://acme.service-now.com?close_code=Solved%20(Permanently)&urgency_map=warning:1&assignment_group=abc|svc.probectl:pa55word',
      'a|jira|https://jira.acme.internal/jira/rest/api/2/issue?project=OPS&issuetype=Incident&priority_map=critical:Blocker&fields=%7B%22customfield_10010%22%3A%22x%22%2C%22customfield_2%22%3A1%7D|NjM0MDk1OTAxNTQ2OkdvbGRlblBBVA',
    ];
    const parsed = parseConnectors(entries.join('\n'));
    expect(parsed.map((c) => c.id)).toEqual(['pagerduty', 'og-us', 'og-eu', 'jsm', 'hook', 'bot', 'teams', 'servicenow', 'jira']);
    expect(parsed[1]!.options).toEqual({ priority_map: 'critical:P1;warning:P3', tags: 'network;edge', responders: 'team:NOC' });
    expect(new URL(parsed[6]!.url.reveal()).searchParams.get('sig')).toBe('s1g');
    expect(parsed[7]!.options.close_code).toBe('Solved (Permanently)');
    expect(JSON.parse(parsed[8]!.options.fields!)).toEqual({ customfield_10010: 'x', customfield_2: 1 });
  });

  const SECRET_URL_PART = 'Zz9SecretPathPart';
  const SECRET_CRED = 'Qq7SecretCredential';
  test.each([
    ['pagerduty', `https://events.pagerduty.com/v2/${SECRET_URL_PART}`, SECRET_CRED, 'Events API v2 endpoint'],
    ['pagerduty', 'https://events.pagerduty.com/v2/enqueue?rate_per_min=0', SECRET_CRED, 'rate_per_min'],
    ['opsgenie', `https://api.opsgenie.com/v1/${SECRET_URL_PART}`, SECRET_CRED, 'alerts endpoint'],
    ['opsgenie', 'https://api.opsgenie.com/v2/alerts?priority_map=critical:P9', SECRET_CRED, 'priority_map'],
    ['opsgenie', 'https://api.opsgenie.com/v2/alerts?responders=squad:x', SECRET_CRED, 'responders'],
    ['opsgenie', 'https://api.opsgenie.com/v2/alerts', '', 'GenieKey'],
    ['slack', `https://slack.com/api/chat.postMessage?x=${SECRET_URL_PART}`, SECRET_CRED, 'channel option'],
    ['slack', `https://hooks.slack.com/services/${SECRET_URL_PART}?channel=C1`, '', 'only applies to the Web API'],
    ['slack', 'https://slack.com/api/chat.postMessage?channel=C1', '', 'bot token'],
    ['teams', `https://acme.webhook.office.com/webhookb2/${SECRET_URL_PART}`, '', 'retired'],
    ['teams', `https://outlook.office.com/webhook/${SECRET_URL_PART}`, '', 'Workflows'],
    ['servicenow', 'https://acme.service-now.com', SECRET_CRED, 'user:password'],
    ['servicenow', `https://acme.service-now.com/${SECRET_URL_PART}`, `u:${SECRET_CRED}`, 'instance'],
    ['servicenow', 'https://acme.service-now.com?impact_map=critical:5', `u:${SECRET_CRED}`, 'impact_map'],
    ['jira', `https://acme.atlassian.net/rest/api/2/issue?resolve_transition=31&x=${SECRET_URL_PART}`, `a@b.c:${SECRET_CRED}`, 'project option is missing'],
    ['jira', 'https://acme.atlassian.net/rest/api/2/issue?project=OPS&resolve_transition=done', `a@b.c:${SECRET_CRED}`, 'numeric transition id'],
    ['jira', 'https://acme.atlassian.net/rest/api/2/issue?project=OPS&fields=%5B1%5D', `a@b.c:${SECRET_CRED}`, 'JSON object'],
    ['jira', 'https://acme.atlassian.net/rest/api/2/issue?project=OPS&fields=%7Bnope', `a@b.c:${SECRET_CRED}`, 'JSON object'],
    ['jira', `https://acme.atlassian.net/rest/api/3/${SECRET_URL_PART}?project=OPS`, `a@b.c:${SECRET_CRED}`, 'create-issue endpoint'],
    ['jira', 'http://jira.acme.example/rest/api/2/issue?project=OPS', `a@b.c:${SECRET_CRED}`, 'loopback'],
  ])('%s: a bad entry names its position and says why, without the URL or credential (%#)', (provider, url, cred, why) => {
    const good = `other|pagerduty|https://events.pagerduty.com/v2/enqueue|${PD_KEY}`;
    const message = problemsOf(`${good},acme|${provider}|${url}|${cred}`);
    expect(message).toContain('entry #2');
    expect(message).toContain(why);
    expect(message).not.toContain(SECRET_URL_PART);
    expect(message).not.toContain(SECRET_CRED);
    expect(message).not.toContain(url);
    expect(message).not.toContain(PD_KEY);
  });
});

describe('certificate validation', () => {
  test('no source file turns certificate validation off', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts') && /rejectUnauthorized\s*:\s*false|NODE_TLS_REJECT_UNAUTHORIZED|checkServerIdentity/.test(readFileSync(p, 'utf8'))) offenders.push(p);
      }
    };
    walk(join(__dirname, '..', '..', 'src'));
    expect(offenders).toEqual([]);
  });
});
