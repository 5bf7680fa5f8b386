import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** One request as a double saw it, timestamped on arrival. */
export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: string;
  /** The body's size on the wire, in bytes (what providers' size limits count). */
  bytes: number;
  json: unknown;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * Fault hooks a test installs. `before` runs when a request arrives, before the provider logic: it may
 * answer instead (a 500, a 429) or destroy the socket. `hold` decides, after the provider logic ran,
 * whether the answer is held back until released.
 */
export interface Faults {
  before?: (req: RecordedRequest) => Reply | 'reset' | 'hang' | undefined;
  hold?: (req: RecordedRequest) => boolean;
  /**
   * Decides, when a request arrives, whether the provider only carries it out later (`releaseDeferred`): a create
   * it has taken in and lands after the client gave up (the client sees no answer until then).
   */
  defer?: (req: RecordedRequest) => boolean;
}

export type Handler = (req: RecordedRequest) => Reply;

/**
 * A loopback HTTP server that speaks one provider's wire format. Used by tests, the demo and the
 * benchmark; never reachable from outside the machine (it binds 127.0.0.1).
 */
export class DoubleServer {
  readonly requests: RecordedRequest[] = [];
  faults: Faults = {};
  #server: Server | undefined;
  #held: Array<() => void> = [];
  #heldWaiters: Array<() => void> = [];
  #deferred: Array<() => void> = [];
  #deferredWaiters: Array<() => void> = [];
  #sockets = new Set<import('node:net').Socket>();
  #scheme = 'http';

  constructor(private readonly handler: Handler) {}

  /** Listen on 127.0.0.1; with `tls` (PEM key and certificate) it speaks https, for certificate tests. */
  async start(port = 0, tls?: { key: string | Buffer; cert: string | Buffer }): Promise<this> {
    const listener = (req: IncomingMessage, res: ServerResponse) => void this.#serve(req, res);
    this.#server = tls ? createTlsServer({ key: tls.key, cert: tls.cert }, listener) : createServer(listener);
    this.#scheme = tls ? 'https' : 'http';
    this.#server.on('connection', (s: import('node:net').Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    const a = this.#server?.address() as AddressInfo | undefined;
    if (!a) throw new Error('double not started');
    return `${this.#scheme}://127.0.0.1:${a.port}`;
  }

  /** Number of answers currently held back. */
  get heldCount(): number {
    return this.#held.length;
  }

  /** Resolves once at least `n` answers are held. */
  async waitHeld(n = 1): Promise<void> {
    while (this.#held.length < n) await new Promise<void>((r) => this.#heldWaiters.push(r));
  }

  /** Resolves once at least `n` requests are deferred. */
  async waitDeferred(n = 1): Promise<void> {
    while (this.#deferred.length < n) await new Promise<void>((r) => this.#deferredWaiters.push(r));
  }

  /** Carry out every deferred request now (and answer it, if its client is still there). */
  releaseDeferred(): void {
    const deferred = this.#deferred.splice(0);
    for (const release of deferred) release();
  }

  /** Release every held answer (the client may be gone by then; that is the point). */
  releaseHeld(): void {
    const held = this.#held.splice(0);
    for (const release of held) release();
  }

  async stop(): Promise<void> {
    this.releaseDeferred();
    this.releaseHeld();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const body = raw.toString('utf8');
    const url = new URL(req.url ?? '/', 'http://double');
    let json: unknown;
    try {
      json = body ? JSON.parse(body) : undefined;
    } catch {
      json = undefined;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    const rec: RecordedRequest = { at: Date.now(), method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, body, bytes: raw.length, json };
    this.requests.push(rec);

    const fault = this.faults.before?.(rec);
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'hang') return; // never answer; the client's timeout fires
    if (!fault && this.faults.defer?.(rec)) {
      await new Promise<void>((resolve) => {
        this.#deferred.push(resolve);
        for (const w of this.#deferredWaiters.splice(0)) w();
      });
    }
    const reply = fault ?? this.handler(rec);
    const send = () => {
      if (res.destroyed) return;
      const payload = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        'content-type': typeof reply.body === 'string' ? 'text/plain' : 'application/json',
        ...reply.headers,
      });
      res.end(payload);
    };
    if (!fault && this.faults.hold?.(rec)) {
      this.#held.push(send);
      for (const w of this.#heldWaiters.splice(0)) w();
      return;
    }
    send();
  }
}
