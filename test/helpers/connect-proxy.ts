import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback forward proxy that speaks HTTP CONNECT (what undici's proxy agent uses for every target) and
 * counts the tunnels it opened, by target.
 */
export class ConnectProxy {
  readonly tunnels: string[] = [];
  #server: Server | undefined;
  #sockets = new Set<Socket>();

  async start(): Promise<this> {
    this.#server = createServer((client) => {
      this.#sockets.add(client);
      client.once('data', (head) => {
        const line = head.toString('latin1').split('\r\n')[0] ?? '';
        const m = /^CONNECT ([^:\s]+):(\d+) HTTP\/1\.[01]$/.exec(line);
        if (!m) {
          client.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
          return;
        }
        const target = `${m[1]}:${m[2]}`;
        this.tunnels.push(target);
        const upstream = connect(Number(m[2]), m[1], () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          upstream.pipe(client);
          client.pipe(upstream);
        });
        this.#sockets.add(upstream);
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      });
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server!.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server?.close(() => r()));
  }
}
