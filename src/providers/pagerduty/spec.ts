import type { ProviderSpec } from '../spec';

export const spec: ProviderSpec<'pagerduty'> = {
  name: 'pagerduty',
  label: 'PagerDuty',
  uiName: 'PagerDuty',
  kind: 'pager',
  // An Events API routing key cannot read an incident back.
  readable: false,
  openVerb: 'trigger {key}',
  // PagerDuty allows ~120 events/min per routing key.
  defaultRatePerMin: 100,
  freeFormCredential: false,
};
