export { inboundPlugin, INBOUND_BODY_LIMIT, DELIVERY_RETENTION_DAYS, type InboundDeps } from './plugin';
export { InboundMetrics, type InboundOutcome } from './metrics';
export { InboundDispatcher, type DispatcherOptions } from './dispatcher';
export { TemporalHealth } from './temporal-health';
