/**
 * Each provider folder's configuration spec (src/providers/<name>/config.ts), read through the registry: a bad
 * option is refused at load with a message that names the option and never the credential or the URL.
 */
import { parseConnectors } from '../../../src/config/connectors';
import { ConfigError } from '../../../src/config/errors';
import { SHIPPED_PROVIDERS, definitionOf } from '../../../src/providers/registry';

const CRED = 'S3cr3tCredentialValue0123456789';
/** A valid entry per provider (URL and credential), to which one bad option is added. */
const BASE: Record<string, { url: string; credential: string }> = {
  pagerduty: { url: 'https://events.pagerduty.com/v2/enqueue', credential: CRED },
  opsgenie: { url: 'https://api.opsgenie.com/v2/alerts', credential: CRED },
  slack: { url: 'https://slack.com/api/chat.postMessage?channel=C0PROBECTL', credential: `xoxb-${CRED}` },
  teams: { url: 'https://prod-1.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=s1g', credential: '' },
  servicenow: { url: 'https://acme.service-now.com', credential: `svc:${CRED}` },
  jira: { url: 'https://acme.atlassian.net/rest/api/2/issue?project=OPS', credential: `a@acme.com:${CRED}` },
};
/** One bad value per option a provider declares (besides rate_per_min, checked for every provider). */
const BAD: Record<string, Array<[string, string, string]>> = {
  pagerduty: [],
  opsgenie: [['priority_map', 'critical:P9', 'priority_map'], ['responders', 'crew:NOC', 'responders']],
  slack: [],
  teams: [],
  servicenow: [['urgency_map', 'critical:9', 'urgency_map'], ['impact_map', 'nonsense', 'impact_map'], ['close_code', ' ', 'close_code']],
  jira: [['resolve_transition', 'done', 'resolve_transition'], ['priority_map', 'critical', 'priority_map'], ['fields', '[1]', 'fields'], ['priority', 'a'.repeat(300), 'priority']],
};

function refusal(provider: string, option: string, value: string): string {
  const { url, credential } = BASE[provider]!;
  const u = new URL(url);
  u.searchParams.set(option, value);
  try {
    parseConnectors(JSON.stringify([{ tenant: 'acme', provider, url: u.toString(), credential }]));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`${provider}: ${option}=${value} was accepted`);
}

describe.each(SHIPPED_PROVIDERS.map((p) => [p]))('%s option checks', (provider) => {
  test('the base entry loads, typed by the registry', () => {
    const { url, credential } = BASE[provider]!;
    const [c] = parseConnectors(JSON.stringify([{ tenant: 'acme', provider, url, credential }]));
    expect(c).toMatchObject({ provider, id: provider });
  });

  test('every declared option has a bad-value case here', () => {
    const declared = definitionOf(provider).config.optionKeys.filter((k) => k !== 'rate_per_min');
    const checked = new Set(BAD[provider]!.map(([k]) => k));
    // Options without a refusable value (free text, lists of names) are listed here explicitly.
    const freeText = ['tags', 'assignment_group', 'caller_id', 'category', 'channel', 'project', 'issuetype', 'components'];
    expect(declared.filter((k) => !checked.has(k) && !freeText.includes(k))).toEqual([]);
  });

  test.each([['rate_per_min', '0', 'rate_per_min'], ...BAD[provider]!])('%s=%j is refused, naming the option, never the credential', (option, value, named) => {
    const message = refusal(provider, option, value);
    expect(message).toContain(named);
    expect(message).not.toContain(CRED);
    expect(message).not.toContain(BASE[provider]!.url);
  });
});
