import type { ProviderSpec } from '../spec';

export const spec: ProviderSpec<'servicenow'> = {
  name: 'servicenow',
  label: 'ServiceNow',
  uiName: 'ServiceNow',
  kind: 'ticket',
  readable: true,
  openVerb: 'create incident (correlation {key})',
  defaultRatePerMin: 60,
  freeFormCredential: true,
};
