import t from 'tap';
import { Cleanup } from '../../scripts/bench/cleanup.js';

t.test('steps run last-added first, once, and a failing step does not stop the others', async (t) => {
  const cleanup = new Cleanup();
  const ran: string[] = [];
  const logged: string[] = [];
  cleanup.add({ name: 'folder', run: () => void ran.push('folder') });
  cleanup.add({
    name: 'database',
    run: async () => {
      ran.push('database');
      throw new Error('gone already');
    },
  });
  cleanup.add({ name: 'process', run: async () => void ran.push('process') });
  await Promise.all([cleanup.runAll((l) => logged.push(l)), cleanup.runAll((l) => logged.push(l))]);
  await cleanup.runAll((l) => logged.push(l));
  t.same(ran, ['process', 'database', 'folder']);
  t.same(logged, ['cleanup: database: gone already']);
  t.equal(cleanup.interrupted, false);
});
