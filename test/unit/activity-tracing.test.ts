/**
 * The activity interceptor while tracing is on (src/observability/tracing.ts): a `_tracer-data` header that cannot
 * be decoded — any client can write one into a start or signal, and a header on an activity comes from anywhere —
 * never fails the activity; it only leaves the span without a parent. The family: other encodings, bytes that are
 * no JSON, JSON that is no object, objects whose traceparent is not a valid string.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import type { Payload } from '@temporalio/common';
import type { Logger } from '../../src/observability/logger';
import type { RunTraceParents } from '../../src/observability/trace-parents';
import { activityTracingInterceptors, startTracing, type Tracing } from '../../src/observability/tracing';

const enc = (s: string) => new TextEncoder().encode(s);
const payload = (encoding: string | undefined, data: string | Uint8Array | undefined): Payload => ({
  metadata: encoding === undefined ? {} : { encoding: enc(encoding) },
  ...(data === undefined ? {} : { data: typeof data === 'string' ? enc(data) : data }),
});

const BAD: Array<[string, Payload]> = [
  ['no metadata at all', { data: enc('{"traceparent":"x"}') }],
  ['an unknown encoding', payload('binary/protobuf', '\u0000\u0001garbage')],
  ['an encoding no converter knows', payload('json/unknown', '{}')],
  ['json/plain that is not JSON', payload('json/plain', '{"traceparent": 00-')],
  ['json/plain with no data', payload('json/plain', undefined)],
  ['json/plain null', payload('json/plain', 'null')],
  ['json/plain number', payload('json/plain', '42')],
  ['json/plain string', payload('json/plain', '"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"')],
  ['json/plain array', payload('json/plain', '["traceparent"]')],
  ['traceparent a number', payload('json/plain', '{"traceparent":7}')],
  ['traceparent an object', payload('json/plain', '{"traceparent":{"a":1}}')],
  ['traceparent malformed', payload('json/plain', '{"traceparent":"00-zz-yy-01"}')],
  ['invalid UTF-8', payload('json/plain', new Uint8Array([0xff, 0xfe, 0xfd]))],
  ['binary/null', payload('binary/null', undefined)],
];

describe('activity tracing: an undecodable _tracer-data header never fails the activity', () => {
  let tracing: Tracing;
  const log = { info: () => undefined, warn: () => undefined } as unknown as Logger;
  beforeAll(() => {
    // Nothing listens there: export failures are only logged (and the log is silent here).
    tracing = startTracing({ url: 'http://127.0.0.1:9/v1/traces', protocol: 'http/json', timeoutMs: 200, serviceName: 't', endpointSetting: 'OTEL_EXPORTER_OTLP_ENDPOINT' }, log, 'worker');
  });
  afterAll(async () => {
    await tracing.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  test.each(BAD)('%s', async (_what, header) => {
    const parents = { forActivity: async () => undefined } as unknown as RunTraceParents;
    const [factory] = activityTracingInterceptors(parents)!;
    const info = { activityId: '1', activityType: 'openConnector', isLocal: false, inWorkflow: true, workflowType: 'incidentWorkflow', workflowExecution: { workflowId: 'probectl-x', runId: 'r' } };
    const interceptors = factory!({ info } as never);
    const next = jest.fn(async () => 'done');
    await expect(interceptors.inbound!.execute!({ args: [], headers: { '_tracer-data': header } }, next)).resolves.toBe('done');
    expect(next).toHaveBeenCalledTimes(1);
  });
});
