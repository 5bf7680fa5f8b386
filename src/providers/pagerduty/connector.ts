import { incidentKey } from '../../shared/ids';
import { classify } from '../../http/classify';
import type { CallContext, Connector } from '../types';
import { secretsOf } from '../types';
import { callTags } from '../send';
import { buildFollowUp, buildTrigger } from './build';

const LABEL = 'PagerDuty';

/**
 * PagerDuty Events API v2. Delivery policy: re-send. A repeated trigger with the same dedup_key is
 * coalesced into the open alert, so a retry after a crash never pages twice; acknowledge and resolve of
 * a key with no open alert are dropped by PagerDuty (202 either way).
 */
async function send(ctx: CallContext, req: Parameters<CallContext['http']['send']>[0], action: string): Promise<void> {
  const secrets = secretsOf(ctx.connector);
  const res = await ctx.http.send(req, secrets, ctx.signal, callTags(ctx));
  classify(res, { label: LABEL, action, secrets, attempt: ctx.attempt });
}

export const pagerduty: Connector = {
  provider: 'pagerduty',

  async open(ctx, incident) {
    const { url, credential } = ctx.connector;
    await send(ctx, buildTrigger(url.reveal(), credential.reveal(), incident), 'trigger');
    return { externalRef: incidentKey(incident.id) };
  },

  async acknowledge(ctx, incident) {
    const { url, credential } = ctx.connector;
    await send(ctx, buildFollowUp(url.reveal(), credential.reveal(), incident, 'acknowledge'), 'acknowledge');
  },

  async resolve(ctx, incident) {
    const { url, credential } = ctx.connector;
    await send(ctx, buildFollowUp(url.reveal(), credential.reveal(), incident, 'resolve'), 'resolve');
  },
};
