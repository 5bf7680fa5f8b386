import type { Provider } from '../../shared/contract';
import { pagerduty } from './pagerduty/connector';
import type { Connector } from './types';

/** Implemented connectors by provider. */
export const CONNECTORS: Partial<Record<Provider, Connector>> = {
  pagerduty,
};

export function connectorFor(provider: Provider): Connector | undefined {
  return CONNECTORS[provider];
}
