import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy that can be cut: `cut()` drops every open connection and refuses new ones until
 * `restore()`. Postgres and Temporal are reached through one of these in fault scenarios, so an outage
 * is simulated without stopping the machine's own servers.
 */
export class CuttableProxy {
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #cut = false;
  connections = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static forAddress(hostPort: string): CuttableProxy {
    const [host, port] = hostPort.split(':') as [string, string];
    return new CuttableProxy(host, Number(port));
  }

  async start(): Promise<this> {
    this.#server = createServer((client) => {
      if (this.#cut) {
        client.destroy();
        return;
      }
      this.connections += 1;
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    return this;
  }

  get port(): number {
    return (this.#server!.address() as { port: number }).port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get isCut(): boolean {
    return this.#cut;
  }

  cut(): void {
    this.#cut = true;
    for (const s of this.#sockets) s.destroy();
  }

  restore(): void {
    this.#cut = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.#server?.close(() => r()));
  }
}
