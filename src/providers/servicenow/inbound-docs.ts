/** How the OpenAPI document describes ServiceNow's inbound side (src/providers/definition.ts, InboundDocs). Documentation only: parseServiceNow reads the delivery. */
import { z } from 'zod';
import type { InboundDocs } from '../definition';

export const docs: InboundDocs = {
  payload: z
    .looseObject({
      sys_id: z.string(),
      state: z.union([z.string(), z.number()]).describe('6 (Resolved) or 7 (Closed) resolves; every other state is ignored'),
      number: z.string().optional(),
      correlation_id: z.string().optional().describe('`probectl-<incident-id>`'),
      actor: z.string().optional(),
    })
    .meta({ id: 'InboundServiceNow', title: 'ServiceNow (Business Rule)' }),
  // Its Business Rule sends the X-Probectl-* headers (and the body's delivery_id): no header of its own.
  headers: {},
};
