/**
 * Alertmanager v0.35.0 beside us: the same doubles, the same open-loop rates, one alert per
 * `POST /api/v2/alerts`, latency from that request to each receiver's first request (the request that
 * creates the page, alert, post or issue). Ours at the same rate comes from the floor part's steps (or is run
 * here, interleaved, when that part did not run). Alertmanager runs only during this part.
 */
import { join } from 'node:path';
import { Alertmanager, ALERTMANAGER_VERSION, alertmanagerBinary, alertmanagerConfig, recordedBuildSeconds, type AlertmanagerSettings } from '../lib/alertmanager';
import { rssOf } from '../lib/machine';
import { figuresOnly, kneeWords, runStep, type StepFigures, type StepSystem } from '../lib/steps';
import { summarize } from '../lib/stats';
import { oursAt } from './floor';
import { settle, type PartContext } from './context';

export const NOT_COMPARABLE = [
  'Alertmanager holds alerts in memory only (the notification log and silences are snapshotted to disk every 15 minutes): a restart loses the alerts and anything not yet notified until the sender re-sends them. Ours: every incident is a durable Temporal workflow and a Postgres mirror; a delivery interrupted by a crash is retried by another worker.',
  'A failed notification is retried inside its flush (bounded by group_interval, at least 10 s) and again at the next flush while the alert still fires; ours retries each provider call on its own for 30 minutes (pages, posts) to 12 hours (tickets).',
  'No resolution sync back: nothing comes from the providers to Alertmanager (an acknowledgement or resolve in PagerDuty does not reach it), and no callback to probectl.',
  'ServiceNow has no Alertmanager integration: "all" is five receivers for Alertmanager, six for ours (ours\' all-five figure, ServiceNow left out, is shown too).',
  'No per-tenant connectors, no idempotent open (the alert fingerprint dedups, but a restart with an empty store sends again), no links recorded, no timeline, no pacing per provider key.',
  'The Jira receiver searches by `POST …/search` with the JQL in the body (its Data Center form); the bench turns that into the double\'s `GET …/search/jql` before the double sees it.',
  'Slack: Alertmanager sends attachments; the bench sets message_text so the webhook also gets the `text` Slack requires.',
  'Alertmanager is one Go process with no database; ours is the API, the worker, the Temporal server and Postgres: the CPU of all of them is on the same two cores.',
];

export async function alertmanagerPart(ctx: PartContext, runTag: string, settings: AlertmanagerSettings): Promise<Record<string, unknown>> {
  const binary = await alertmanagerBinary(ctx.stack.root, ctx.log);
  if ('skipped' in binary) {
    ctx.log(`alertmanager: SKIPPED — ${binary.skipped}`);
    return { skipped: binary.skipped };
  }
  const am = new Alertmanager(binary.bin, join(ctx.stack.dir, 'alertmanager'));
  const steps: Array<Record<string, unknown>> = [];
  let amKnee = 0;
  let oursKnee = 0;
  try {
    await am.start(alertmanagerConfig(ctx.fleet, settings), await ctx.stack.freePort());
    ctx.log(`alertmanager ${ALERTMANAGER_VERSION} at ${am.url} (pid ${am.process?.pid}); receivers: pagerduty, opsgenie, slack, msteamsv2, jira`);
    const sys: StepSystem = {
      name: 'alertmanager',
      except: 'servicenow',
      processes: () => ({ alertmanager: am.process?.pid }),
      async start(tag, i) {
        const id = `${runTag}-${tag}-${i}`;
        const t0 = Date.now();
        try {
          const r = await am.fire(id, 'Packet loss on edge-router-3 uplink', '14% loss towards AS64500 for 5 minutes');
          return { id, t0, answerMs: r.ms, status: String(r.status) };
        } catch (err) {
          return { id, t0, answerMs: Date.now() - t0, status: (err as Error).name };
        }
      },
    };
    // Warm-up (not reported): the first notifications open the receivers' connections.
    await runStep(ctx.fleet, sys, 'aw', 10, 1, ctx.knee);
    let amOver = false;
    for (const rate of ctx.steps) {
      const ours = await oursAt(ctx, rate);
      let a: StepFigures | undefined;
      if (!amOver) {
        a = figuresOnly(await runStep(ctx.fleet, sys, `a${rate}`, rate, ctx.stepSeconds, ctx.knee));
        ctx.log(`alertmanager ${rate}/s (achieved ${a.pace.achievedRate}/s): first page ${JSON.stringify(a.firstPage)} all five ${JSON.stringify(a.all)} incomplete ${a.incomplete} cpu ms/incident ${JSON.stringify(a.cpuMsPerIncident)} → ${a.withinKnee ? 'ok' : 'over'}`);
        if (a.withinKnee) amKnee = rate;
        else amOver = true;
        await settle(2000);
      }
      if (ours?.withinKnee) oursKnee = rate;
      const oursFive = ours ? ourAllFive(ctx, rate) : null;
      steps.push({ rate, alertmanager: a ?? null, ours: ours ? { firstPage: ours.firstPage, allSix: ours.all, allFive: oursFive, answer: ours.answer, withinKnee: ours.withinKnee, cpuMsPerIncident: ours.cpuMsPerIncident } : null });
      if (amOver && (!ours || !ours.withinKnee)) break;
    }
    const rss = rssOf(am.process?.pid);
    return {
      version: ALERTMANAGER_VERSION,
      binary: binary.bin,
      builtThisRun: binary.built,
      buildSeconds: binary.buildSeconds ?? recordedBuildSeconds(binary.bin),
      settings: { groupBy: ['incident'], groupWait: '0s', groupInterval: settings.groupInterval, repeatInterval: settings.repeatInterval, cluster: 'off', receivers: ['pagerduty', 'opsgenie', 'slack', 'msteamsv2', 'jira'] },
      knee: kneeWords(ctx.knee),
      steps,
      alertmanagerKnee: amKnee,
      oursKnee,
      rssMB: rss?.rssMB,
      peakRssMB: rss?.peakMB,
      failedNotifications: await am.failedNotifications().catch(() => undefined),
      notComparable: NOT_COMPARABLE,
    };
  } finally {
    await am.stop();
  }
}

/** Ours, open → the five providers Alertmanager also has reached (ServiceNow left out). */
function ourAllFive(ctx: PartContext, rate: number) {
  const s = ctx.oursSteps.get(rate);
  if (!s) return null;
  const v = s.started.map((o) => ctx.fleet.latency(o.id, 'open', o.t0, 'all', 'servicenow')).filter((x): x is number => x !== undefined);
  return summarize(v);
}
