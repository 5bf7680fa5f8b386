/**
 * Reconciliation for missed webhooks: while the incident is open, every interval, the links that can be read
 * back (tickets, Opsgenie alerts) are read; one found resolved (or acknowledged) counts as that connector's
 * resolve (acknowledge). One timer per interval; reads are ordinary activities.
 */
import { condition, sleep } from '@temporalio/workflow';
import { reconciling } from '../activity-options';
import { readableLinks, reconciled, type IncidentState } from './state';
import type { Wake } from './wake';

export async function reconcileLoop(s: IncidentState, wake: Wake, now: () => string, ended: () => boolean): Promise<void> {
  const every = s.settings.reconcileIntervalMs;
  if (every <= 0) return;
  const opensRunning = () => s.actions.some((a) => a.kind === 'open' && a.running);
  for (;;) {
    await condition(() => s.resolution !== undefined || ended() || (readableLinks(s).length > 0 && !opensRunning()));
    if (s.resolution || ended()) return;
    await sleep(every);
    if (s.resolution || ended()) return;
    const results = await Promise.all(readableLinks(s).map(async (ref) => {
      const link = s.links[ref.id];
      try {
        const state = await reconciling.checkConnector.executeWithOptions({ summary: `${ref.id}: read state (reconciliation)` }, [{
          incident: s.incident, connectorId: ref.id, ...(link?.externalRef ? { externalRef: link.externalRef } : {}),
        }]);
        return { connectorId: ref.id, provider: ref.provider, state };
      } catch {
        return { connectorId: ref.id, provider: ref.provider, state: 'unreadable' };
      }
    }));
    if (ended()) return;
    reconciled(s, results, now());
    wake.bump();
  }
}
