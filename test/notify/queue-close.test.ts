import net from 'node:net';
import t from 'tap';
import { openQueue } from '../../src/notify/queue.js';
import { freePort, until } from '../helpers/redis.js';

/**
 * A CI run lost a test file to an unhandled rejection (connect ECONNREFUSED) from a gateway closed while
 * Redis was unreachable. The library closed a connection that was still connecting after a failed try:
 * the failure of its start-up came after close() had removed every listener, and its 'error' event, with
 * no one listening, became an unhandled rejection, which ends a gateway process. Closing must be quiet.
 */
t.test(
  'closing the queue while its connection is still being made after a refusal leaves nothing unhandled',
  async (t) => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    t.teardown(() => {
      process.off('unhandledRejection', onUnhandled);
    });

    const port = await freePort();
    const errors: string[] = [];
    const queue = openQueue({
      redisUrl: `redis://127.0.0.1:${port}`,
      gatewayId: 'queue-close',
      maxAttempts: 1,
      onError: (err) => errors.push((err as NodeJS.ErrnoException).code ?? err.message),
    });
    t.ok(await until(() => errors.includes('ECONNREFUSED'), 5000), 'the first try was refused');

    // Something now accepts the next try and never answers, so the connection stays "being made".
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    t.teardown(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    );
    t.ok(await until(() => sockets.length > 0, 5000), 'the retry reached the silent server');

    await queue.close();
    // The half-closed connection ends when the far side lets go; that is when the start-up failure lands.
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    t.same(unhandled, [], 'no unhandled rejection after close');
  },
);
