// Review scratch: importing a provider's connector before the registry leaves that provider's definition half-built.
import { pagerduty } from '../../../src/providers/pagerduty/connector';
import { allProviders, connectorFor, definitionOf } from '../../../src/providers/registry';

test('the registry is whole whatever is imported first', () => {
  expect(pagerduty.provider).toBe('pagerduty');
  expect(allProviders().filter((d) => !d.connector).map((d) => d.spec.name)).toEqual([]);
  expect(connectorFor('pagerduty')).toBe(pagerduty);
  expect(definitionOf('pagerduty').connector).toBeDefined();
});
