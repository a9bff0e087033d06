import net from 'node:net';

/**
 * A TCP proxy between the gateways and PostgreSQL, so that the suite can make PostgreSQL refuse them for
 * a while without touching the server other tests share: `refuse()` stops listening (a new connection
 * meets ECONNREFUSED, as with a server that is down or failing over) and leaves the connections it
 * carries to the server (pg_terminate_backend ends them with the server's own FATAL); `cut()` ends any
 * still open; `accept()` listens again on the same port.
 */
export interface PgProxy {
  port: number;
  url(database: string): string;
  /** Connections carried now. */
  open(): number;
  refuse(): Promise<void>;
  cut(): void;
  accept(): Promise<void>;
  close(): Promise<void>;
}

export async function startPgProxy(target: { host: string; port: number }): Promise<PgProxy> {
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const onConnection = (client: net.Socket) => {
    const upstream = net.connect(target.port, target.host);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };
  let server: net.Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer(onConnection);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        const address = s.address();
        port = typeof address === 'object' && address ? address.port : port;
        server = s;
        resolve();
      });
    });
  const cut = () => {
    for (const socket of sockets) socket.destroy();
  };
  // close() stops accepting at once; its callback would wait for the carried connections, so none is given.
  const stopListening = async () => {
    server?.close();
    server = undefined;
  };
  await listen();
  return {
    get port() {
      return port;
    },
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    open: () => sockets.size / 2,
    refuse: stopListening,
    cut,
    accept: async () => {
      if (!server) await listen();
    },
    close: async () => {
      await stopListening();
      cut();
    },
  };
}
