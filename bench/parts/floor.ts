/**
 * The Temporal floor at the step rates, interleaved with ours at the same rate (ours, then the floor, each
 * after the previous one has settled), on the same server and worker settings. Each system's steps stop after
 * its first step past the knee. Ratios are ours ÷ floor.
 */
import type { Client } from '@temporalio/client';
import { FLOOR_TASK_QUEUE, FLOOR_WORKFLOW_TYPE } from '../floor/contract';
import { rssOf } from '../lib/machine';
import { figuresOnly, kneeWords, runStep, type StepFigures, type StepSystem } from '../lib/steps';
import type { Summary } from '../lib/stats';
import { settle, type PartContext } from './context';

export const floorWorkflowId = (incidentId: string) => `bench-floor-${incidentId}`;

/** The floor as a step system: the driver starts the floor workflow directly (no API in front). */
export function floorSystem(client: Client, tenants: string[], runTag: string, local = false): StepSystem {
  return {
    name: 'floor',
    async start(tag, i) {
      const id = `${runTag}-${tag}-${i}`;
      const incident = {
        id, tenantId: tenants[i % tenants.length]!, title: 'Packet loss on edge-router-3 uplink', severity: 'critical' as const,
        summary: '14% loss towards AS64500 for 5 minutes', source: 'probectl', openedAt: new Date().toISOString(),
      };
      const t0 = Date.now();
      const t = performance.now();
      try {
        await client.workflow.start(FLOOR_WORKFLOW_TYPE, { taskQueue: FLOOR_TASK_QUEUE, workflowId: floorWorkflowId(id), args: [{ incident, ...(local ? { local } : {}) }] });
        return { id, t0, answerMs: performance.now() - t, status: 'started' };
      } catch (err) {
        return { id, t0, answerMs: performance.now() - t, status: (err as Error).name };
      }
    },
  };
}

const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b <= 0 ? undefined : Math.round((a / b) * 100) / 100);
const ratios = (a: Summary | null | undefined, b: Summary | null | undefined) => ({ p50: ratio(a?.p50, b?.p50), p99: ratio(a?.p99, b?.p99) });

/** Ours at `rate` (once per run), then `settleMs`. */
export async function oursAt(ctx: PartContext, rate: number): Promise<StepFigures | undefined> {
  const known = ctx.oursSteps.get(rate);
  if (known) return known;
  const lower = [...ctx.oursSteps.values()].filter((s) => s.rate < rate);
  if (lower.some((s) => !s.withinKnee)) return undefined; // past our knee: not run again
  const s = await runStep(ctx.fleet, ctx.ours, `o${rate}`, rate, ctx.stepSeconds, ctx.knee);
  ctx.oursSteps.set(rate, s);
  ctx.log(`ours ${rate}/s (achieved ${s.pace.achievedRate}/s): first page ${JSON.stringify(s.firstPage)} all six ${JSON.stringify(s.all)} incomplete ${s.incomplete} cpu ms/incident ${JSON.stringify(s.cpuMsPerIncident)} → ${s.withinKnee ? 'ok' : 'over'}`);
  await settle(s.withinKnee ? 3000 : 10_000); // past the knee, a backlog drains
  return s;
}

export async function floorPart(ctx: PartContext, floor: StepSystem, local = false): Promise<Record<string, unknown>> {
  const worker = await ctx.floorWorker();
  const rows: Array<Record<string, unknown>> = [];
  let oursKnee = 0;
  let floorKnee = 0;
  let floorOver = false;
  for (const rate of ctx.steps) {
    const ours = await oursAt(ctx, rate);
    let f: StepFigures | undefined;
    if (!floorOver) {
      f = figuresOnly(await runStep(ctx.fleet, floor, `f${rate}`, rate, ctx.stepSeconds, ctx.knee));
      ctx.log(`floor ${rate}/s (achieved ${f.pace.achievedRate}/s): first page ${JSON.stringify(f.firstPage)} all six ${JSON.stringify(f.all)} incomplete ${f.incomplete} cpu ms/incident ${JSON.stringify(f.cpuMsPerIncident)} → ${f.withinKnee ? 'ok' : 'over'}`);
      if (f.withinKnee) floorKnee = rate;
      else floorOver = true;
      await settle(f.withinKnee ? 3000 : 10_000);
    }
    if (ours?.withinKnee) oursKnee = rate;
    rows.push({
      rate,
      ours: ours ? figuresOnly(ours) : null,
      floor: f ?? null,
      firstPageRatio: ratios(ours?.firstPage, f?.firstPage),
      allSixRatio: ratios(ours?.all, f?.all),
    });
    if (floorOver && (!ours || !ours.withinKnee)) break;
  }
  const lastRate = ctx.steps[ctx.steps.length - 1];
  return {
    knee: { rule: kneeWords(ctx.knee), p99Ms: ctx.knee.p99Ms },
    stepSeconds: ctx.stepSeconds,
    steps: rows,
    oursKnee,
    floorKnee,
    kneeRatio: ratio(oursKnee, floorKnee),
    floorKneeIsLastStep: !floorOver && floorKnee === lastRate,
    floorWorkerRssMB: rssOf(worker.process.pid)?.rssMB,
    activities: local ? 'local' : 'ordinary',
    what: (local ? 'start → six local activities in the first workflow task' : 'start → six ordinary activities') + ' (the connectors\' open through the one HttpClient, the service\'s retry options, no heartbeat, no mirror record, no pacer) → done; started by the driver with WorkflowClient.start (no API in front), own task queue and workflow type, same Temporal server, worker options, cache, node arguments and environment',
  };
}
