import net from 'node:net';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface SilenceableProxy {
  port: number;
  /** On: connections stay open and nothing passes either way (what is sent meanwhile is lost). */
  silence(on: boolean): void;
}

/**
 * A TCP proxy to a local server (Redis, PostgreSQL) that can go silent: a stalled server, or a network
 * that drops packets without resetting the connection, which no client is told about. Closed with the test.
 */
export async function silenceableProxy(t: Teardown, targetPort: number): Promise<SilenceableProxy> {
  let silent = false;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('error', () => s.destroy());
    s.on('close', () => sockets.delete(s));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    track(client);
    track(upstream);
    client.on('data', (d) => {
      if (!silent) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!silent) client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    silence: (on) => {
      silent = on;
    },
  };
}
