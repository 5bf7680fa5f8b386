/**
 * Slack's options, typed once at load: `channel`, the channel of the Web API mode (whether it belongs to the URL is
 * the entry check's business, ./config.ts). Pure.
 */
import { z } from 'zod';

export interface SlackOptions {
  /** `channel`: set only with the Web API URL (…/api/chat.postMessage). */
  channel?: string;
}

export const schema: z.ZodType<SlackOptions> = z
  .object({ channel: z.string().optional() })
  .transform((o): SlackOptions => (o.channel ? { channel: o.channel } : {}));
