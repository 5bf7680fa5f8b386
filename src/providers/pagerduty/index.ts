import type { InboundProviderDefinition } from '../definition';
import { config } from './config';
import { canTimestamp, guide } from './guide';
import { pagerduty as connector } from './connector';
import { DELIVERY_HEADER, parsePagerDuty } from './inbound';
import { docs } from './inbound-docs';
import { signature } from './signature';
import type { NoOptions } from '../option-schemas';
import { spec } from './spec';

export const pagerduty: InboundProviderDefinition<'pagerduty', NoOptions> = {
  spec,
  config,
  connector,
  inbound: { parse: parsePagerDuty, guide: { text: guide, canTimestamp }, signature, deliveryHeader: DELIVERY_HEADER, docs },
};
