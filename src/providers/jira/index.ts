import type { InboundProviderDefinition } from '../definition';
import { jiraCreateMeta } from './check';
import { config } from './config';
import { canTimestamp, guide } from './guide';
import { jira as connector, listChanges } from './connector';
import { DELIVERY_HEADER, parseJira } from './inbound';
import { docs } from './inbound-docs';
import { signature } from './signature';
import type { JiraOptions } from './options';
import { spec } from './spec';

export const jira: InboundProviderDefinition<'jira', JiraOptions> = {
  spec,
  config,
  connector,
  // Its resume is a larger page bound for the next pass, not a position (src/providers/jira/build.ts, docs/providers.md).
  listChanges: (ctx, since, maxPages, before, resume) => listChanges(ctx, since, maxPages, before, resume),
  liveCheck: jiraCreateMeta,
  inbound: { parse: parseJira, guide: { text: guide, canTimestamp }, signature, deliveryHeader: DELIVERY_HEADER, docs },
};
