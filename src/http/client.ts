import { checkProxySettings } from '../config/proxy';
import { Agent, EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { urlSchemeProblem } from '../config/url-policy';
import { withClientSpan, type CallTags } from '../observability/tracing';
import { scrub } from './scrub';
import type { HttpRequest, HttpResponse, SecretList } from './types';

export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** A request that never produced an HTTP answer: refused, reset, timed out, aborted, or too large. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface ProxySettings {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
}

/** Proxy settings from the conventional variables (upper or lower case); undefined when none is set. */
export function proxyFromEnv(env: Record<string, string | undefined>): ProxySettings | undefined {
  checkProxySettings(env); // a ConfigError naming the variable, where a value could not be used (src/config/proxy.ts)
  const pick = (name: string) => env[name] || env[name.toLowerCase()] || undefined;
  const httpsProxy = pick('HTTPS_PROXY');
  const httpProxy = pick('HTTP_PROXY');
  if (!httpsProxy && !httpProxy) return undefined;
  const noProxy = pick('NO_PROXY');
  return { ...(httpProxy ? { httpProxy } : {}), ...(httpsProxy ? { httpsProxy } : {}), ...(noProxy ? { noProxy } : {}) };
}

export interface HttpClientOptions {
  timeoutMs: number;
  maxResponseBytes?: number;
  /** Overrides the dispatcher (a test's). Certificate validation is never turned off. */
  dispatcher?: Dispatcher;
  /** Outbound proxy (HTTPS_PROXY / HTTP_PROXY / NO_PROXY); certificates are still validated end to end. */
  proxy?: ProxySettings;
  userAgent?: string;
}

/**
 * The one HTTP client every connector uses. It enforces the URL policy (https, or http to loopback only),
 * a timeout, a bounded response body, and it never throws on an HTTP status: classification happens in
 * classify.ts. Errors carry only a scrubbed message and a code, never the URL or a cause chain.
 */
export class HttpClient {
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #dispatcher: Dispatcher;
  readonly #userAgent: string;

  constructor(options: HttpClientOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#maxBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    const tls = { rejectUnauthorized: true };
    const timeouts = { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs };
    this.#dispatcher =
      options.dispatcher ??
      (options.proxy
        ? new EnvHttpProxyAgent({
            ...(options.proxy.httpProxy ? { httpProxy: options.proxy.httpProxy } : {}),
            ...(options.proxy.httpsProxy ? { httpsProxy: options.proxy.httpsProxy } : {}),
            noProxy: options.proxy.noProxy ?? '',
            connect: tls,
            requestTls: tls,
            proxyTls: tls,
            ...timeouts,
          })
        : new Agent({ connect: tls, ...timeouts }));
    this.#userAgent = options.userAgent ?? 'probectl-notify';
  }

  /**
   * Send one request. `tags` name the provider, connector and tenant for the request's trace span (while
   * tracing is on, src/observability/tracing.ts): every outbound provider and callback request passes here.
   */
  async send(req: HttpRequest, secrets: SecretList, signal?: AbortSignal, tags?: CallTags): Promise<HttpResponse> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw new TransportError('invalid request URL', 'EINVALIDURL');
    }
    const problem = urlSchemeProblem(url);
    if (problem) throw new TransportError(problem, 'EURLPOLICY');

    return withClientSpan(req.method, url, tags, () => this.#send(url, req, secrets, signal));
  }

  async #send(url: URL, req: HttpRequest, secrets: SecretList, signal?: AbortSignal): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await request(url, {
        method: req.method,
        headers: { 'user-agent': this.#userAgent, ...req.headers },
        body: req.body,
        signal: combined,
        dispatcher: this.#dispatcher,
        maxRedirections: 0,
      } as Parameters<typeof request>[1]);
      const text = await readBounded(res.body, this.#maxBytes);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      }
      return { status: res.statusCode, headers, text };
    } catch (err) {
      if (err instanceof TransportError) throw err;
      if (signal?.aborted) throw new TransportError('request cancelled', 'ECANCELLED');
      if (timeout.aborted) throw new TransportError(`no answer within ${this.#timeoutMs} ms`, 'ETIMEDOUT');
      const e = err as { code?: unknown; message?: unknown };
      const code = typeof e.code === 'string' ? e.code : 'ENETWORK';
      const message = typeof e.message === 'string' ? e.message : 'network error';
      throw new TransportError(scrub(`${code}: ${message}`, [...secrets, req.url]), code);
    }
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}

async function readBounded(body: AsyncIterable<Buffer> & { destroy?: () => void }, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) {
      body.destroy?.();
      throw new TransportError(`response larger than ${max} bytes`, 'ERESPONSETOOLARGE');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
