/** The tests start dev servers with the same code the demo and the benchmark use. */
export { findTemporalCli, freePort, searchAttributeArgs, startDevServer, type DevServer, type DevServerOptions } from '../../dev/dev-server';
