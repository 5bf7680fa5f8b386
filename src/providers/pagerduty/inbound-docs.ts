/** How the OpenAPI document describes PagerDuty's inbound side (src/providers/definition.ts, InboundDocs). Documentation only: parsePagerDuty reads the delivery. */
import { z } from 'zod';
import type { InboundDocs } from '../definition';
import { DELIVERY_HEADER } from './inbound';
import { signature } from './signature';

export const docs: InboundDocs = {
  payload: z
    .looseObject({
      event: z.looseObject({
        id: z.string().optional(),
        event_type: z.string().describe('`incident.resolved` resolves, `incident.acknowledged` acknowledges; others are ignored'),
        data: z.looseObject({ incident_key: z.string().optional().describe('`probectl-<incident-id>` (or `alert_key`)') }),
      }),
    })
    .meta({ id: 'InboundPagerDuty', title: 'PagerDuty V3 webhook' }),
  headers: {
    [signature.header]: 'PagerDuty\'s own signature (pagerduty entries)',
    [DELIVERY_HEADER]: 'PagerDuty\'s delivery id (deduplication)',
  },
  signatureName: 'PagerDuty\'s `X-PagerDuty-Signature`',
};
