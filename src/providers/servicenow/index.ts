import type { InboundProviderDefinition } from '../definition';
import { config } from './config';
import { canTimestamp, guide } from './guide';
import { servicenow as connector, listChanges } from './connector';
import { parseServiceNow } from './inbound';
import { docs } from './inbound-docs';
import type { ServiceNowOptions } from './options';
import { spec } from './spec';

export const servicenow: InboundProviderDefinition<'servicenow', ServiceNowOptions> = {
  spec,
  config,
  connector,
  listChanges,
  inbound: { parse: parseServiceNow, guide: { text: guide, canTimestamp }, docs },
};
