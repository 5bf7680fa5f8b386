/**
 * Where the milliseconds go (bench/lib/phases.ts), for ours and for the floor, at the phase rates (5/s and 20/s):
 * a step of its own with the worker's request probe on (SIGWINCH starts and stops it, bench/lib/probe.ts) and the
 * doubles stamping the first request of each open, then every incident's history.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { phaseBreakdown } from '../lib/phases';
import type { ProbeRecord } from '../lib/probe';
import type { Child } from '../lib/stack';
import { figuresOnly, runStep, type StepSystem } from '../lib/steps';
import { floorWorkflowId } from './floor';
import { settle, type PartContext } from './context';

/** Dumps taken so far, per worker pid (the probe numbers its files). */
const dumps = new Map<number, number>();

async function probed<T>(ctx: PartContext, worker: Child, fn: () => Promise<T>): Promise<{ result: T; probe: ProbeRecord[] }> {
  const pid = worker.process.pid!;
  worker.process.kill('SIGWINCH');
  await settle(200);
  if (worker.process.exitCode !== null || worker.process.signalCode !== null) {
    throw new Error(`the ${worker.name} exited on SIGWINCH (${worker.process.exitCode ?? worker.process.signalCode}): is the probe preloaded?\n${worker.output().slice(-2000)}`);
  }
  const result = await fn();
  worker.process.kill('SIGWINCH');
  const n = (dumps.get(pid) ?? 0) + 1;
  dumps.set(pid, n);
  const file = join(ctx.stack.dir, `probe-${pid}-${n}.json`);
  const by = Date.now() + 10_000;
  while (!existsSync(file) && Date.now() < by) await settle(100);
  if (!existsSync(file)) {
    ctx.problems.push(`phases: the ${worker.name} probe wrote no ${file}`);
    return { result, probe: [] };
  }
  return { result, probe: JSON.parse(readFileSync(file, 'utf8')) as ProbeRecord[] };
}

export async function phasesPart(ctx: PartContext, floor: StepSystem, rates: number[], seconds: number): Promise<Record<string, unknown>> {
  const floorWorker = await ctx.floorWorker();
  const out: Array<Record<string, unknown>> = [];
  ctx.fleet.trackFirst = true;
  try {
    for (const rate of rates) {
      for (const [sys, worker, activityType, workflowId] of [
        [ctx.ours, ctx.worker, 'openConnector', (id: string) => `probectl-${id}`],
        [floor, floorWorker, 'floorOpen', floorWorkflowId],
      ] as const) {
        const { result: step, probe } = await probed(ctx, worker, async () => {
          // The tag goes into the incident ids, which the doubles' observer matches as [0-9a-z]+: a rate below 1/s
          // (a quiet spell between opens, e.g. 0.025 for one every 40 s) is written 0p025.
          const s = await runStep(ctx.fleet, sys, `${sys.name === 'floor' ? 'pf' : 'po'}${String(rate).replace('.', 'p')}`, rate, seconds, ctx.knee);
          await settle(2000); // the opens' completions (and ours' records) land after the last arrival
          return s;
        });
        const phases = await phaseBreakdown({ client: ctx.stack.client, fleet: ctx.fleet, workflowId, activityType, started: step.started, probe });
        ctx.log(`phases ${sys.name} ${rate}/s: ${Object.entries(phases.phases).map(([k, v]) => `${k} ${v?.p50 ?? '–'}/${v?.p99 ?? '–'}`).join('; ')}`);
        out.push({ system: sys.name, rate, step: figuresOnly(step), probeRequests: probe.length, ...phases });
        await settle(3000);
      }
    }
  } finally {
    ctx.fleet.trackFirst = false;
  }
  return {
    seconds,
    clocks: 'history event times (Temporal server), the worker\'s request stamps (undici diagnostics channels, preloaded probe), the doubles\' arrival stamps; one machine, one clock (ms)',
    runs: out,
  };
}
