/**
 * An OTLP/HTTP trace receiver on loopback, for tests: it takes `POST /v1/traces` with a JSON body
 * (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) as a collector would, answers 200 with an empty partial-success, and
 * keeps every request (raw body and headers) and every span, flattened with its resource attributes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number; arrayValue?: { values?: OtlpValue[] } };
export interface OtlpAttribute { key: string; value: OtlpValue }

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean | undefined>;
  events: Array<{ name: string; attributes: Record<string, string | number | boolean | undefined> }>;
  status?: { code?: number; message?: string };
  /** The span's links (trace and span ids of the linked contexts). */
  links: Array<{ traceId: string; spanId: string }>;
  resource: Record<string, string | number | boolean | undefined>;
  /** The span as exported, for leak scans. */
  raw: unknown;
}

const value = (v: OtlpValue | undefined): string | number | boolean | undefined =>
  v === undefined ? undefined : v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.boolValue ?? v.doubleValue ?? JSON.stringify(v);
const attrs = (list: OtlpAttribute[] | undefined) => Object.fromEntries((list ?? []).map((a) => [a.key, value(a.value)]));

export class OtlpReceiver {
  readonly requests: Array<{ path: string; contentType: string; headers: Record<string, string | string[] | undefined>; body: string }> = [];
  readonly spans: ReceivedSpan[] = [];
  #server: Server | undefined;
  #port = 0;

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ path: req.url ?? '', contentType: String(req.headers['content-type'] ?? ''), headers: req.headers, body });
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          res.writeHead(404).end();
          return;
        }
        try {
          const parsed = JSON.parse(body) as { resourceSpans?: Array<{ resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }> };
          for (const rs of parsed.resourceSpans ?? []) {
            const resource = attrs(rs.resource?.attributes);
            for (const ss of rs.scopeSpans ?? []) {
              for (const s of ss.spans ?? []) {
                this.spans.push({
                  traceId: String(s.traceId), spanId: String(s.spanId), ...(s.parentSpanId ? { parentSpanId: String(s.parentSpanId) } : {}),
                  name: String(s.name), kind: Number(s.kind),
                  attributes: attrs(s.attributes as OtlpAttribute[]),
                  events: ((s.events as Array<{ name: string; attributes?: OtlpAttribute[] }>) ?? []).map((e) => ({ name: e.name, attributes: attrs(e.attributes) })),
                  ...(s.status ? { status: s.status as { code?: number; message?: string } } : {}),
                  links: ((s.links as Array<{ traceId: string; spanId: string }>) ?? []).map((l) => ({ traceId: String(l.traceId), spanId: String(l.spanId) })),
                  resource, raw: s,
                });
              }
            }
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', () => r()));
    this.#port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}
