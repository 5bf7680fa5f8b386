/** What the parts of the benchmark (bench/parts/*) get from the driver (bench/main.ts). */
import type { BenchStack, Child } from '../lib/stack';
import type { Fleet } from '../lib/fleet';
import type { KneeRule, StepFigures, StepSystem, Started } from '../lib/steps';

export interface PartContext {
  fleet: Fleet;
  stack: BenchStack;
  tenants: string[];
  /** Rates of the step loads (offered incidents/s). */
  steps: number[];
  stepSeconds: number;
  knee: KneeRule;
  quick: boolean;
  log(msg: string): void;
  problems: string[];
  /** Our service, opened through `POST /v1/incidents`. */
  ours: StepSystem;
  /** Our worker process (the phases part signals its probe). */
  worker: Child;
  /** The floor's worker, started on first use with ours' node arguments and environment. */
  floorWorker(): Promise<Child>;
  /** Our step at `rate`, measured once per run and shared by the parts that compare against it. */
  oursSteps: Map<number, StepFigures & { started: Started[] }>;
}

export const settle = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
