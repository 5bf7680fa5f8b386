import { incidentKey } from '../../shared/ids';
import { sendChecked } from '../send';
import { resolvedBy } from '../format';
import type { Connector } from '../types';
import { buildCardPost } from './build';

const LABEL = 'Teams';

/**
 * Microsoft Teams through a Workflows webhook. Any 2xx is success (Workflows answer 202 and post
 * asynchronously). Delivery policy: at least once — no id comes back, so a card whose answer was lost is
 * posted again, and the resolution is a new card rather than an edit.
 */
export const teams: Connector = {
  provider: 'teams',

  async open(ctx, incident) {
    await sendChecked(ctx, buildCardPost(ctx.connector.url.reveal(), incident), { label: LABEL, action: 'post' });
    return { externalRef: incidentKey(incident.id) };
  },

  async resolve(ctx, incident, _link, resolution) {
    await sendChecked(ctx, buildCardPost(ctx.connector.url.reveal(), incident, resolvedBy(resolution)), { label: LABEL, action: 'post resolved' });
  },
};
