import net from 'node:net';
import { Transform } from 'node:stream';

/**
 * A TCP proxy to a local server (PostgreSQL, Redis) that a test can make misbehave without touching the
 * server other tests share:
 * - `refuse()` stops listening (a new connection meets ECONNREFUSED, as with a server that is down or
 *   failing over) and leaves the connections it carries open; `cut()` ends those; `accept()` listens
 *   again on the same port;
 * - `silence(true)` keeps every connection open and lets nothing pass either way, what is sent meanwhile
 *   being lost: a stalled server, or a network that drops packets without resetting the connection, which
 *   no client is told about.
 */
export interface TcpProxy {
  port: number;
  refuse(): Promise<void>;
  cut(): void;
  accept(): Promise<void>;
  silence(on: boolean): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let silent = false;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  /** Passes what it is given, or drops it while silent (backpressure kept, as pipe keeps it). */
  const gate = () =>
    new Transform({
      transform(chunk, _encoding, callback) {
        callback(null, silent ? undefined : chunk);
      },
    });
  const onConnection = (client: net.Socket) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    track(client);
    track(upstream);
    client.pipe(gate()).pipe(upstream);
    upstream.pipe(gate()).pipe(client);
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
    refuse: stopListening,
    cut,
    accept: async () => {
      if (!server) await listen();
    },
    silence: (on) => {
      silent = on;
    },
    close: async () => {
      await stopListening();
      cut();
    },
  };
}
