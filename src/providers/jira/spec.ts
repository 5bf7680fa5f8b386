import type { ProviderSpec } from '../spec';

export const spec: ProviderSpec<'jira'> = {
  name: 'jira',
  label: 'Jira',
  uiName: 'Jira',
  kind: 'ticket',
  readable: true,
  openVerb: 'create issue (label {key})',
  defaultRatePerMin: 60,
  freeFormCredential: true,
};
