import type { ProviderSpec } from '../spec';

export const spec: ProviderSpec<'teams'> = {
  name: 'teams',
  label: 'Microsoft Teams',
  uiName: 'Microsoft Teams',
  kind: 'chat',
  readable: false,
  openVerb: 'post the incident card',
  defaultRatePerMin: 60,
  freeFormCredential: false,
};
