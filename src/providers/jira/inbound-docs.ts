/** How the OpenAPI document describes Jira's inbound side (src/providers/definition.ts, InboundDocs). Documentation only: parseJira reads the delivery. */
import { z } from 'zod';
import type { InboundDocs } from '../definition';
import { DELIVERY_HEADER } from './inbound';
import { signature } from './signature';

export const docs: InboundDocs = {
  payload: z
    .looseObject({
      webhookEvent: z.string().describe('`jira:issue_updated` with a transition to a status of category `done` resolves'),
      issue: z.looseObject({
        id: z.string().optional(),
        key: z.string(),
        fields: z.looseObject({
          status: z.looseObject({ statusCategory: z.looseObject({ key: z.string() }) }).optional(),
          labels: z.array(z.string()).optional().describe('a `probectl-<incident-id>` label'),
        }),
      }),
      changelog: z.looseObject({ items: z.array(z.looseObject({ field: z.string() })) }).optional(),
    })
    .meta({ id: 'InboundJira', title: 'Jira issue webhook' }),
  headers: {
    [signature.header]: 'Jira Cloud\'s own signature (jira entries)',
    [DELIVERY_HEADER]: 'Jira\'s delivery id (deduplication)',
  },
  signatureName: 'Jira Cloud\'s `X-Hub-Signature`',
};
