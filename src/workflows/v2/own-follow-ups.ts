/**
 * Follow-ups the workflow carries out itself, because Postgres could not take them when they were decided
 * (normally the worker's follow-up runner does, from Postgres): a pager's second resolve, a ticket's next
 * lookup-and-close, the callback to probectl. Each waits on a timer until due, then runs as the activity it
 * stands for. A hand-over carries them to the next run, which starts them again (each is idempotent).
 */
import { condition, sleep } from '@temporalio/workflow';
import { followingUp, reportingOnce } from '../activity-options';
import { reportSummary, resolveSummary } from '../ui';
import { failureOutcome } from './failures';
import { callbackEvent, ownFollowUpDone, type IncidentState, type OwnFollowUp } from './state';
import type { Wake } from './wake';

export class OwnFollowUps {
  #ended = false;

  constructor(
    private readonly s: IncidentState,
    private readonly wake: Wake,
    private readonly now: () => string,
  ) {}

  end(): void {
    this.#ended = true;
  }

  start(): void {
    for (const o of this.s.ownFollowUps) {
      if (o.running) continue;
      o.running = true;
      void this.run(o);
    }
  }

  private async run(o: OwnFollowUp): Promise<void> {
    const s = this.s;
    const f = o.followUp;
    const wait = Date.parse(f.dueAt) - Date.parse(this.now());
    if (wait > 0) await sleep(wait);
    if (this.#ended) return;
    let out: { ok: boolean; found?: boolean; reason?: string };
    try {
      if (f.kind === 'callback') {
        // After the fan-out has settled, with the links as they are then.
        if (f.event.type === 'incident.resolved') await condition(() => s.actions.length === 0 || this.#ended);
        if (this.#ended) return;
        const event = f.event.type === 'incident.resolved' ? callbackEvent(s, 'incident.resolved') : f.event;
        await reportingOnce.reportToProbectl.executeWithOptions({ summary: reportSummary(f.event.type) }, [event]);
        out = { ok: true };
      } else {
        const ref = s.connectors.find((c) => c.id === f.connectorId)!;
        const link = s.links[f.connectorId];
        const externalRef = f.kind === 're-resolve' ? f.externalRef : undefined;
        const r = await followingUp.resolveConnector.executeWithOptions({ summary: resolveSummary(ref, link, true) }, [{
          incident: s.incident, connectorId: f.connectorId, resolution: f.resolution, ...(externalRef ? { externalRef } : {}),
        }]);
        out = { ok: true, ...(r && r.found === false ? { found: false } : {}) };
      }
    } catch (err) {
      const failed = failureOutcome(err);
      out = { ok: false, reason: 'reason' in failed ? failed.reason : 'cancelled' };
    }
    if (this.#ended) return;
    ownFollowUpDone(s, f.key, out, this.now());
    this.wake.bump();
  }
}
