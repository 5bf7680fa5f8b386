import type { Provider } from '../../shared/contract';
import { jira } from './jira/connector';
import { opsgenie } from './opsgenie/connector';
import { pagerduty } from './pagerduty/connector';
import { servicenow } from './servicenow/connector';
import { slack } from './slack/connector';
import { teams } from './teams/connector';
import type { Connector } from './types';

/** Implemented connectors by provider. */
export const CONNECTORS: Partial<Record<Provider, Connector>> = {
  pagerduty,
  opsgenie,
  slack,
  teams,
  servicenow,
  jira,
};

export function connectorFor(provider: Provider): Connector | undefined {
  return CONNECTORS[provider];
}
