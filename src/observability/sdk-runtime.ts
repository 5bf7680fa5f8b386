/**
 * The Temporal SDK's Runtime for this process, installed once (Runtime.install may only be called once per
 * process): the SDK's log into the service's JSON log (src/observability/sdk-logger.ts) and, with
 * PROBECTL_NOTIFY_SDK_METRICS_ADDRESS, the SDK's own metrics (worker task slots, pollers, poll results,
 * workflow and activity task latencies and failures, sticky cache) served for Prometheus by the SDK's
 * native exporter on that address.
 *
 * Own port, not merged into /metrics: the SDK Core (Rust) records and serves these itself, so they are
 * scrapeable even while the Node event loop is busy or blocked, which is when worker health matters most.
 * Merging would need a translation layer (the experimental buffered exporter re-implemented as prom-client
 * counters, gauges and histograms) or a proxy of the native endpoint inside /metrics.
 */
import type { TelemetryOptions } from '@temporalio/worker';
import { ConfigError } from '../config/errors';
import type { Logger } from './logger';
import { PinoSdkLogger } from './sdk-logger';

/**
 * The SDK exporter's settings: Prometheus naming conventions (counters end in `_total`, durations are
 * histograms in seconds with a `_seconds` suffix), like the service's own metrics.
 */
export function sdkTelemetryOptions(metricsAddress: string | undefined): TelemetryOptions {
  if (metricsAddress === undefined) return {};
  return {
    metrics: {
      prometheus: { bindAddress: metricsAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true },
    },
  };
}

export type SdkRuntimeInstall = 'installed' | 'already-installed';

/**
 * Install the Runtime with the service's logger and, when `metricsAddress` is set, the Prometheus exporter.
 * A Runtime that already exists (a test that installed its own) is kept: 'already-installed', and a requested
 * metrics address is then reported in the log rather than silently ignored. An address that cannot be bound
 * is a ConfigError naming the setting: the worker does not start without the metrics it was asked to export.
 */
export function installSdkRuntime(log: Logger, opts: { metricsAddress?: string } = {}): SdkRuntimeInstall {
  // Imported here so modules that only need the types do not load the native worker runtime.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Runtime } = require('@temporalio/worker') as typeof import('@temporalio/worker');
  if (Runtime._instance !== undefined) {
    if (opts.metricsAddress !== undefined) {
      log.warn({ setting: 'PROBECTL_NOTIFY_SDK_METRICS_ADDRESS' }, 'the Temporal SDK runtime was already installed in this process; its metrics are not exported');
    }
    return 'already-installed';
  }
  try {
    // No shutdown signals of the SDK's own (it would drain every worker at SIGTERM, SIGINT, SIGQUIT or SIGUSR2): the
    // process decides the order (src/main.ts — in `all`, the API goes unready and drains first while the worker keeps
    // taking tasks, then the worker drains).
    Runtime.install({ logger: new PinoSdkLogger(log), telemetryOptions: sdkTelemetryOptions(opts.metricsAddress), shutdownSignals: [] });
  } catch (err) {
    // The exporter binds its port here, synchronously ("Address already in use", "Cannot assign requested address").
    if (opts.metricsAddress === undefined) throw err;
    throw new ConfigError('PROBECTL_NOTIFY_SDK_METRICS_ADDRESS', [`cannot serve the Temporal SDK metrics on ${opts.metricsAddress}: ${err instanceof Error ? err.message : String(err)}`]);
  }
  return 'installed';
}
