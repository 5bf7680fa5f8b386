/**
 * One open-loop step for any system the bench drives (ours through the API, the Temporal floor, Alertmanager):
 * start `rate` incidents a second for `seconds`, wait until the doubles have seen every one reach every
 * provider (or a deadline), and summarize what the doubles stamped. The knee is judged the same way for all.
 */
import type { BenchProvider, Fleet } from './fleet';
import { PROVIDERS } from './fleet';
import { cpuMsOf, postgresCpuMs } from './machine';
import { paced, type PacedResult } from './pace';
import { summarize, type Summary } from './stats';

export interface Started {
  id: string;
  /** Date.now() just before the start request was sent. */
  t0: number;
  /** ms until the start request was answered. */
  answerMs: number;
  /** HTTP status or 'ok' / an error name for a gRPC start. */
  status: string;
}

export interface StepSystem {
  name: string;
  /** A provider the system has no receiver for (Alertmanager: ServiceNow); "all" then means the others. */
  except?: BenchProvider;
  start(tag: string, i: number): Promise<Started>;
  /** The processes whose CPU time a step is charged with (name → pid). */
  processes?(): Record<string, number | undefined>;
}

export interface StepFigures {
  rate: number;
  seconds: number;
  pace: PacedResult;
  /** open → the PagerDuty double received the trigger. */
  firstPage: Summary | null;
  /** open → every provider (less `except`) reached. */
  all: Summary | null;
  perProvider: Record<string, Summary | null>;
  /** The start request's answer (API 201, gRPC start, Alertmanager 200). */
  answer: Summary | null;
  statuses: Record<string, number>;
  /** Started but not reached everywhere within the wait. */
  incomplete: number;
  withinKnee: boolean;
  /**
   * CPU time (user + system) per started incident, ms, per process, from the step's start to 2 s after its last
   * arrival; `postgres` is the whole Postgres server (the only one on the bench machine), charged to every system.
   */
  cpuMsPerIncident?: Record<string, number>;
}

export interface KneeRule {
  /** p99 of open → all reached must stay at or under this. */
  p99Ms: number;
  /** How long to wait for the last arrivals after the last start. */
  waitMs: number;
}

/** The knee rule, in words, for the report. */
export const kneeWords = (k: KneeRule) =>
  `p99 open → all reached ≤ ${k.p99Ms} ms, every incident reached within ${Math.round(k.waitMs / 1000)} s of the step's end, nothing skipped and ≥ 95 % of the offered rate achieved`;

export async function runStep(fleet: Fleet, sys: StepSystem, tag: string, rate: number, seconds: number, knee: KneeRule): Promise<StepFigures & { started: Started[] }> {
  const started: Started[] = [];
  const pids = sys.processes?.() ?? {};
  const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMsOf(pid)]));
  const pg0 = Object.keys(pids).length > 0 ? postgresCpuMs() : undefined;
  const pace = await paced(rate, seconds * 1000, async (i) => {
    const s = await sys.start(tag, i);
    started.push(s);
  });
  const by = Date.now() + knee.waitMs;
  const reached = (s: Started) => fleet.allReached(s.id, 'open', sys.except);
  while (Date.now() < by && !started.every(reached)) await new Promise((r) => setTimeout(r, 100));
  const cpuMsPerIncident: Record<string, number> = {};
  if (Object.keys(pids).length > 0) await new Promise((r) => setTimeout(r, 2000)); // the work after the last arrival (completions, records)
  for (const [k, pid] of Object.entries(pids)) {
    const a = cpu0[k];
    const b = cpuMsOf(pid);
    if (a !== undefined && b !== undefined && started.length > 0) cpuMsPerIncident[k] = Math.round(((b - a) / started.length) * 10) / 10;
  }
  const pg1 = pg0 !== undefined ? postgresCpuMs() : undefined;
  if (pg0 !== undefined && pg1 !== undefined && started.length > 0) cpuMsPerIncident.postgres = Math.round(((pg1 - pg0) / started.length) * 10) / 10;
  const lat = (p: BenchProvider | 'all') => summarize(started.map((s) => fleet.latency(s.id, 'open', s.t0, p, sys.except)).filter((v): v is number => v !== undefined));
  const all = lat('all');
  const incomplete = started.filter((s) => !reached(s)).length + pace.skipped;
  const statuses: Record<string, number> = {};
  for (const s of started) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  return {
    rate, seconds, pace,
    firstPage: lat('pagerduty'),
    all,
    perProvider: Object.fromEntries(PROVIDERS.filter((p) => p !== sys.except).map((p) => [p, lat(p)])),
    answer: summarize(started.map((s) => s.answerMs)),
    statuses,
    incomplete,
    withinKnee: incomplete === 0 && all !== null && all.p99 <= knee.p99Ms && pace.skipped === 0 && pace.achievedRate >= rate * 0.95,
    ...(Object.keys(cpuMsPerIncident).length ? { cpuMsPerIncident } : {}),
    started,
  };
}

/** Without the per-incident list (for the JSON report). */
export function figuresOnly(s: StepFigures & { started?: Started[] }): StepFigures {
  const { started: _started, ...rest } = s;
  return rest;
}
