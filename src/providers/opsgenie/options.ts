/**
 * Opsgenie's options, typed once at load: the zod schema from the raw option strings of an entry's URL to what the
 * builders use. Its refusals name the option key and never repeat the value. Pure.
 */
import { z } from 'zod';
import type { Severity } from '../../shared/contract';
import { listOf, refuse, severityMapOption } from '../option-schemas';
import { listOption } from '../format';
import { DEFAULT_PRIORITY, RESPONDER_TYPES, isPriority } from './build';

export type ResponderType = (typeof RESPONDER_TYPES)[number];

/** `team:NOC`: a responder by type and name (a user by username). */
export interface Responder {
  type: ResponderType;
  name: string;
}

export interface OpsgenieOptions {
  /** The alert priority per severity: `priority_map` over the defaults. */
  priorities: Readonly<Record<Severity, string>>;
  /** `responders`: type:name entries. */
  responders: readonly Responder[];
  /** `tags`: extra alert tags. */
  tags: readonly string[];
}

const isResponderType = (t: string): t is ResponderType => (RESPONDER_TYPES as readonly string[]).includes(t);

const responders = z.string().optional().transform((raw, ctx): readonly Responder[] => {
  const out: Responder[] = [];
  for (const entry of listOption(raw)) {
    const i = entry.indexOf(':');
    const type = entry.slice(0, Math.max(i, 0));
    if (!isResponderType(type) || i === entry.length - 1) {
      return refuse(ctx, `responders entries must be type:name with type one of ${RESPONDER_TYPES.join(', ')}`);
    }
    out.push({ type, name: entry.slice(i + 1).trim() });
  }
  return out;
});

export const schema: z.ZodType<OpsgenieOptions> = z
  .object({
    priority_map: severityMapOption('priority_map', DEFAULT_PRIORITY, isPriority, 'P1'),
    responders,
    tags: listOf(),
  })
  .transform((o): OpsgenieOptions => ({ priorities: o.priority_map, responders: o.responders, tags: o.tags }));
