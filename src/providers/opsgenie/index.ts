import type { InboundProviderDefinition } from '../definition';
import { config } from './config';
import { canTimestamp, guide } from './guide';
import { opsgenie as connector, listChanges } from './connector';
import { parseOpsgenie } from './inbound';
import { docs } from './inbound-docs';
import type { OpsgenieOptions } from './options';
import { spec } from './spec';

export const opsgenie: InboundProviderDefinition<'opsgenie', OpsgenieOptions> = {
  spec,
  config,
  connector,
  listChanges,
  inbound: { parse: parseOpsgenie, guide: { text: guide, canTimestamp }, docs },
};
