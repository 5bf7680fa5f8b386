/** How the OpenAPI document describes Opsgenie's inbound side (src/providers/definition.ts, InboundDocs). Documentation only: parseOpsgenie reads the delivery. */
import { z } from 'zod';
import type { InboundDocs } from '../definition';

export const docs: InboundDocs = {
  payload: z
    .looseObject({
      action: z.string().describe('`Close` resolves, `Acknowledge` acknowledges; others are ignored'),
      alert: z.looseObject({ alias: z.string().optional().describe('`probectl-<incident-id>`'), alertId: z.string().optional() }),
    })
    .meta({ id: 'InboundOpsgenie', title: 'Opsgenie outgoing webhook' }),
  // It neither signs nor sends a delivery id: no header of its own.
  headers: {},
};
