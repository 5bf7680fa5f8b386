import type { ProviderSpec } from '../spec';

export const spec: ProviderSpec<'slack'> = {
  name: 'slack',
  label: 'Slack',
  uiName: 'Slack',
  kind: 'chat',
  readable: false,
  openVerb: 'post the incident',
  // Slack allows about one message a second.
  defaultRatePerMin: 60,
  freeFormCredential: false,
};
