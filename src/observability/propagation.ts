/**
 * The one propagator registered while tracing is on: W3C `traceparent` only. No baggage (a caller's baggage
 * would otherwise be carried into every Temporal start and signal header, i.e. into workflow history, kilobytes
 * a time) and no `tracestate` (a caller-chosen, unbounded list that would travel the same way). What is
 * extracted and what is injected is therefore one fixed-size field: `traceparent` (55 characters).
 */
import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const TRACEPARENT = 'traceparent';

export class TraceParentOnlyPropagator implements TextMapPropagator {
  readonly #w3c = new W3CTraceContextPropagator();

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    this.#w3c.inject(ctx, carrier, {
      set: (c, key, value) => {
        if (key === TRACEPARENT) setter.set(c, key, value);
      },
    });
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    return this.#w3c.extract(ctx, carrier, {
      keys: (c) => getter.keys(c).filter((k) => k.toLowerCase() === TRACEPARENT),
      get: (c, key) => (key === TRACEPARENT ? getter.get(c, key) : undefined),
    });
  }

  fields(): string[] {
    return [TRACEPARENT];
  }
}
