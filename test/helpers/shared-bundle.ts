import { readFileSync } from 'node:fs';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleWorkflows } from '../../src/runtime/workflow-bundle';
import { sharedStack } from './shared';

/**
 * The workflow code under test: the bundle global setup wrote for the run (test/setup/global-setup.ts), read from
 * its file; bundled here when the run has none (the cluster suite's setup does not write one).
 */
export async function sharedWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  const file = sharedStack().workflowBundleFile;
  if (!file) return bundleWorkflows();
  return JSON.parse(readFileSync(file, 'utf8')) as WorkflowBundleWithSourceMap;
}
