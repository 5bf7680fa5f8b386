/**
 * ServiceNow's options, typed once at load: the zod schema from the raw option strings of an entry's URL to what
 * the builders use. Its refusals name the option key and never repeat the value. Pure.
 */
import { z } from 'zod';
import type { Severity } from '../../shared/contract';
import { refuse, severityMapOption, text } from '../option-schemas';
import { DEFAULT_CLOSE_CODE, DEFAULT_IMPACT, DEFAULT_URGENCY, isLevel } from './build';

export interface ServiceNowOptions {
  /** `close_code` of a resolve, else "Solution provided". */
  closeCode: string;
  /** `assignment_group`, `caller_id`, `category`: sent when set. */
  assignmentGroup?: string;
  callerId?: string;
  category?: string;
  /** Urgency and impact (1 to 3) per severity: `urgency_map` / `impact_map` over the defaults. */
  urgency: Readonly<Record<Severity, string>>;
  impact: Readonly<Record<Severity, string>>;
}

const closeCode = z.string().optional().transform((raw, ctx) => {
  if (raw === undefined) return DEFAULT_CLOSE_CODE;
  return raw.trim() === '' ? refuse(ctx, 'close_code is empty') : raw;
});

export const schema: z.ZodType<ServiceNowOptions> = z
  .object({
    close_code: closeCode,
    assignment_group: text(),
    caller_id: text(),
    category: text(),
    urgency_map: severityMapOption('urgency_map', DEFAULT_URGENCY, isLevel, '1'),
    impact_map: severityMapOption('impact_map', DEFAULT_IMPACT, isLevel, '1'),
  })
  .transform((o): ServiceNowOptions => ({
    closeCode: o.close_code,
    ...(o.assignment_group ? { assignmentGroup: o.assignment_group } : {}),
    ...(o.caller_id ? { callerId: o.caller_id } : {}),
    ...(o.category ? { category: o.category } : {}),
    urgency: o.urgency_map,
    impact: o.impact_map,
  }));
