import { isIssuePath } from '../activities/providers/jira/build';
import { RESPONDER_TYPES, isAlertsPath, isPriority } from '../activities/providers/opsgenie/build';
import { isLevel, isTablePath } from '../activities/providers/servicenow/build';
import { isPriorityName } from '../activities/providers/jira/build';
import { listOption, parseSeverityMap } from '../activities/providers/format';
import { MAX_RATE_PER_MIN, MIN_RATE_PER_MIN } from '../activities/pacing';
import type { Provider } from '../shared/contract';
import type { EntryParts, ProviderSpec } from './spec';

/** Options every provider accepts here (besides min_severity): the pacing rate. */
const PACING_KEYS = ['rate_per_min'] as const;

const requireCredential = (parts: EntryParts, what: string): string[] =>
  parts.credential.trim().length === 0 ? [`the credential (${what}) is empty`] : [];

const noWhitespace = (parts: EntryParts): string[] =>
  /\s/.test(parts.credential) ? ['the credential contains whitespace'] : [];

const path = (parts: EntryParts) => parts.url.pathname.replace(/\/+$/, '');

function checkRate(parts: EntryParts): string[] {
  const raw = parts.options.rate_per_min;
  if (raw === undefined) return [];
  const n = Number(raw);
  return /^\d+$/.test(raw) && n >= MIN_RATE_PER_MIN && n <= MAX_RATE_PER_MIN
    ? []
    : [`rate_per_min must be a whole number from ${MIN_RATE_PER_MIN} to ${MAX_RATE_PER_MIN}`];
}

function checkMap(parts: EntryParts, key: string, allowed: (v: string) => boolean, what: string): string[] {
  const raw = parts.options[key];
  if (raw === undefined) return [];
  const { map, problems } = parseSeverityMap(raw, allowed);
  if (problems.length === 0 && Object.keys(map).length === 0) return [`${key} is empty (expected e.g. critical:${what})`];
  return problems.map((p) => `${key}: ${p} (expected severity:value pairs separated by ; such as critical:${what})`);
}

/** Run the shared checks, then the provider's own. */
const spec = (s: Omit<ProviderSpec, 'check'> & { check: (parts: EntryParts) => string[] }): ProviderSpec => ({
  ...s,
  optionKeys: [...s.optionKeys, ...PACING_KEYS],
  check: (parts) => [...checkRate(parts), ...s.check(parts)],
});

export const pagerdutySpec = spec({
  provider: 'pagerduty',
  label: 'PagerDuty',
  kind: 'pager',
  optionKeys: [],
  check: (parts) => [
    ...requireCredential(parts, 'routing key'),
    ...noWhitespace(parts),
    ...(path(parts).endsWith('/v2/enqueue') ? [] : ['the URL must be the Events API v2 endpoint (…/v2/enqueue, US or EU host)']),
  ],
});

export const opsgenieSpec = spec({
  provider: 'opsgenie',
  label: 'Opsgenie / JSM',
  kind: 'pager',
  optionKeys: ['priority_map', 'responders', 'tags'],
  check: (parts) => {
    const problems = [...requireCredential(parts, 'GenieKey'), ...noWhitespace(parts)];
    if (!isAlertsPath(parts.url.pathname)) problems.push('the URL must be the alerts endpoint (…/v2/alerts on api.opsgenie.com, api.eu.opsgenie.com or api.atlassian.com/jsm/ops/integration)');
    problems.push(...checkMap(parts, 'priority_map', isPriority, 'P1'));
    for (const r of listOption(parts.options.responders)) {
      const type = r.slice(0, Math.max(r.indexOf(':'), 0));
      if (!(RESPONDER_TYPES as readonly string[]).includes(type) || r.indexOf(':') === r.length - 1) {
        problems.push(`responders entries must be type:name with type one of ${RESPONDER_TYPES.join(', ')}`);
        break;
      }
    }
    return problems;
  },
});

export const slackSpec = spec({
  provider: 'slack',
  label: 'Slack',
  kind: 'chat',
  optionKeys: ['channel'],
  check: (parts) => {
    const webApi = parts.url.pathname.endsWith('/chat.postMessage');
    if (webApi && !parts.options.channel) return ['the Web API URL needs a channel option'];
    if (webApi) return [...requireCredential(parts, 'bot token'), ...noWhitespace(parts)];
    if (parts.options.channel !== undefined) return ['the channel option only applies to the Web API URL (…/api/chat.postMessage); an incoming webhook posts to its own channel'];
    return path(parts) === '' ? ['the URL must be the incoming webhook URL (https://hooks.slack.com/services/…)'] : [];
  },
});

export const teamsSpec = spec({
  provider: 'teams',
  label: 'Microsoft Teams',
  kind: 'chat',
  optionKeys: [],
  check: (parts) => {
    const host = parts.url.hostname.toLowerCase();
    const retired =
      host.endsWith('.webhook.office.com') ||
      host === 'webhook.office.com' ||
      (host === 'outlook.office.com' && parts.url.pathname.startsWith('/webhook'));
    if (retired) {
      return [
        'this is an Office 365 connector webhook URL; Microsoft retired those connectors (final shutdown May 2026), ' +
          'so nothing would be posted. Create a Teams Workflows webhook ("When a Teams webhook request is received") and use its URL',
      ];
    }
    return path(parts) === '' ? ['the URL must be the Workflows webhook URL (…/triggers/manual/paths/invoke?…&sig=…)'] : [];
  },
});

export const servicenowSpec = spec({
  provider: 'servicenow',
  label: 'ServiceNow',
  kind: 'ticket',
  optionKeys: ['close_code', 'assignment_group', 'caller_id', 'category', 'urgency_map', 'impact_map'],
  check: (parts) => {
    const i = parts.credential.indexOf(':');
    const problems = i > 0 && i < parts.credential.length - 1 ? [] : ['the credential must be user:password (basic auth)'];
    if (!isTablePath(parts.url.pathname)) problems.push('the URL must be the instance (https://<instance>.service-now.com) or its …/api/now/table/incident endpoint');
    problems.push(...checkMap(parts, 'urgency_map', isLevel, '1'), ...checkMap(parts, 'impact_map', isLevel, '1'));
    if (parts.options.close_code !== undefined && parts.options.close_code.trim() === '') problems.push('close_code is empty');
    return problems;
  },
});

export const jiraSpec = spec({
  provider: 'jira',
  label: 'Jira',
  kind: 'ticket',
  optionKeys: ['project', 'issuetype', 'resolve_transition', 'components', 'priority', 'priority_map', 'fields'],
  check: (parts) => {
    const problems = [...requireCredential(parts, 'email:api-token or a personal access token'), ...noWhitespace(parts)];
    if (!parts.options.project) problems.push('the project option is missing (add ?project=KEY to the URL)');
    else if (!/^[A-Za-z0-9_]{1,64}$/.test(parts.options.project)) problems.push('the project option must be a project key such as OPS');
    if (!isIssuePath(parts.url.pathname)) problems.push('the URL must be the create-issue endpoint (https://<site>/rest/api/2/issue)');
    if (parts.options.resolve_transition && !/^\d+$/.test(parts.options.resolve_transition)) {
      problems.push('resolve_transition must be a numeric transition id');
    }
    if (parts.options.priority !== undefined && !isPriorityName(parts.options.priority)) problems.push('priority must be a priority name, or none');
    problems.push(...checkMap(parts, 'priority_map', isPriorityName, 'Highest'));
    if (parts.options.fields !== undefined) {
      let fields: unknown;
      try {
        fields = JSON.parse(parts.options.fields);
      } catch {
        fields = undefined;
      }
      if (!fields || typeof fields !== 'object' || Array.isArray(fields)) {
        problems.push('fields must be a URL-encoded JSON object of extra issue fields, e.g. {"customfield_10010":"x"}');
      }
    }
    return problems;
  },
});

export const PROVIDER_SPECS: Record<Provider, ProviderSpec> = {
  pagerduty: pagerdutySpec,
  opsgenie: opsgenieSpec,
  slack: slackSpec,
  teams: teamsSpec,
  servicenow: servicenowSpec,
  jira: jiraSpec,
};
