import { incidentKey } from '../../shared/ids';
import { classify } from '../../http/classify';
import { FailureType, retryable } from '../../http/failures';
import type { HttpRequest, HttpResponse } from '../../http/types';
import { classifyOptions, malformed, parseJson, sendChecked } from '../send';
import { resolvedBy } from '../format';
import type { CallContext, Connector } from '../types';
import {
  apiErrorAsHttp, buildPostMessage, buildUpdate, buildWebhookPost, isWebApi, messageRef, parseApiResult,
  parseMessageRef, webhookBodyAsHttp, type ApiResult,
} from './build';
import type { SlackOptions } from './options';

const LABEL = 'Slack';
/** chat.update answers that only mean the original cannot be edited any more; the thread reply still goes out. */
const UNEDITABLE = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed', 'channel_not_found', 'is_archived']);

async function webhook(ctx: CallContext, req: HttpRequest, action: string): Promise<void> {
  const res = await sendChecked(ctx, req, { label: LABEL, action });
  const asError = webhookBodyAsHttp(res);
  if (asError) classify(asError, classifyOptions(ctx, { label: LABEL, action }));
}

/** A Web API call: HTTP errors first, then `ok:false` mapped to the status it stands for. */
async function api(ctx: CallContext, req: HttpRequest, action: string, tolerate?: ReadonlySet<string>): Promise<ApiResult> {
  const res: HttpResponse = await sendChecked(ctx, req, { label: LABEL, action });
  const result = parseApiResult(parseJson(res, `${LABEL} ${action}`));
  if (!result) malformed(`${LABEL} ${action}: the answer has no "ok" field`);
  if (!result.ok && !(result.error && tolerate?.has(result.error))) {
    classify(apiErrorAsHttp(res, result.error ?? 'unknown_error'), classifyOptions(ctx, { label: LABEL, action }));
    throw retryable(FailureType.MalformedResponse, `${LABEL} ${action}: ok:false without an error`);
  }
  return result;
}

function mode(ctx: CallContext<SlackOptions>): { url: string; token: string; channel?: string } {
  const { url, credential, settings } = ctx.connector;
  const u = url.reveal();
  return settings.channel && isWebApi(u, settings) ? { url: u, token: credential.reveal(), channel: settings.channel } : { url: u, token: '' };
}

/**
 * Slack. Delivery policy: at least once — Slack has no idempotency key, so a post whose answer was lost
 * (a timeout, a crash) is posted again. Webhook mode posts "opened" and "resolved" messages; Web API mode
 * keeps channel:ts, updates the original to show it resolved and replies in its thread.
 */
export const slack: Connector<SlackOptions> = {
  provider: 'slack',

  async open(ctx, incident) {
    const m = mode(ctx);
    if (!m.channel) {
      await webhook(ctx, buildWebhookPost(m.url, incident), 'post');
      return { externalRef: incidentKey(incident.id) };
    }
    const posted = await api(ctx, buildPostMessage(m.url, m.token, m.channel, incident), 'chat.postMessage');
    if (!posted.channel || !posted.ts) malformed(`${LABEL} chat.postMessage: the answer has no channel/ts`);
    return { externalRef: messageRef(posted.channel, posted.ts) };
  },

  async resolve(ctx, incident, link, resolution) {
    const m = mode(ctx);
    const resolved = { note: resolvedBy(resolution) };
    if (!m.channel) {
      await webhook(ctx, buildWebhookPost(m.url, incident, resolved), 'post resolved');
      return;
    }
    const ref = parseMessageRef(link.externalRef);
    if (!ref) {
      // The original was never posted (its open failed or was cancelled): post the resolution on its own.
      await api(ctx, buildPostMessage(m.url, m.token, m.channel, incident, resolved), 'chat.postMessage');
      return;
    }
    // The idempotent edit first, so a retry after a lost reply repeats only what is safe to repeat.
    await api(ctx, buildUpdate(m.url, m.token, ref.channel, ref.ts, incident, resolved), 'chat.update', UNEDITABLE);
    await api(ctx, buildPostMessage(m.url, m.token, ref.channel, incident, resolved, ref.ts), 'chat.postMessage (thread)');
  },
};
