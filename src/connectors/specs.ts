import type { Provider } from '../shared/contract';
import type { EntryParts, ProviderSpec } from './spec';

const requireCredential = (parts: EntryParts, what: string): string[] =>
  parts.credential.trim().length === 0 ? [`the credential (${what}) is empty`] : [];

const noWhitespace = (parts: EntryParts): string[] =>
  /\s/.test(parts.credential) ? ['the credential contains whitespace'] : [];

export const pagerdutySpec: ProviderSpec = {
  provider: 'pagerduty',
  label: 'PagerDuty',
  kind: 'pager',
  optionKeys: [],
  check: (parts) => [...requireCredential(parts, 'routing key'), ...noWhitespace(parts)],
};

export const opsgenieSpec: ProviderSpec = {
  provider: 'opsgenie',
  label: 'Opsgenie / JSM',
  kind: 'pager',
  optionKeys: ['priority_map', 'responders', 'tags'],
  check: (parts) => [...requireCredential(parts, 'GenieKey'), ...noWhitespace(parts)],
};

export const slackSpec: ProviderSpec = {
  provider: 'slack',
  label: 'Slack',
  kind: 'chat',
  optionKeys: ['channel'],
  check: (parts) => {
    const webApi = parts.url.pathname.endsWith('/chat.postMessage');
    if (webApi && !parts.options.channel) return ['the Web API URL needs a channel option'];
    if (webApi) return requireCredential(parts, 'bot token');
    return [];
  },
};

export const teamsSpec: ProviderSpec = {
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
    return retired
      ? [
          'this is an Office 365 connector webhook URL; Microsoft retired those connectors (final shutdown May 2026), ' +
            'so nothing would be posted. Create a Teams Workflows webhook ("When a Teams webhook request is received") and use its URL',
        ]
      : [];
  },
};

export const servicenowSpec: ProviderSpec = {
  provider: 'servicenow',
  label: 'ServiceNow',
  kind: 'ticket',
  optionKeys: ['close_code', 'assignment_group', 'caller_id', 'category', 'urgency_map', 'impact_map'],
  check: (parts) =>
    parts.credential.includes(':') ? [] : ['the credential must be user:password (basic auth)'],
};

export const jiraSpec: ProviderSpec = {
  provider: 'jira',
  label: 'Jira',
  kind: 'ticket',
  optionKeys: ['project', 'issuetype', 'resolve_transition', 'components', 'priority', 'priority_map', 'fields'],
  check: (parts) => {
    const problems = requireCredential(parts, 'email:api-token or a personal access token');
    if (!parts.options.project) problems.push('the project option is missing (add ?project=KEY to the URL)');
    if (parts.options.resolve_transition && !/^\d+$/.test(parts.options.resolve_transition)) {
      problems.push('resolve_transition must be a numeric transition id');
    }
    return problems;
  },
};

export const PROVIDER_SPECS: Record<Provider, ProviderSpec> = {
  pagerduty: pagerdutySpec,
  opsgenie: opsgenieSpec,
  slack: slackSpec,
  teams: teamsSpec,
  servicenow: servicenowSpec,
  jira: jiraSpec,
};
