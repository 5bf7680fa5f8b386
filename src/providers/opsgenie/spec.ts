import type { ProviderSpec } from '../spec';

export const spec: ProviderSpec<'opsgenie'> = {
  name: 'opsgenie',
  label: 'Opsgenie / JSM',
  uiName: 'Opsgenie',
  kind: 'pager',
  readable: true,
  openVerb: 'create alert {key}',
  defaultRatePerMin: 60,
  freeFormCredential: false,
};
