/** The workflow bundle's entry: workflow functions only. */
export { incidentWorkflow } from './incident';
