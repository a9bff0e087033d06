import t from 'tap';
import { filterPayload } from '../../src/policy/filter.js';

const attendances = {
  items: [
    { date: '2026-01-03', setting: 'emergency_department', reason: 'fall', outcome: 'discharged' },
    { date: '2026-02-11', setting: 'gp', reason: 'bruising' },
  ],
};

t.test('items.x keeps that field of every element', async (t) => {
  const r = filterPayload(attendances, ['items.date', 'items.setting']);
  t.same(r.released, {
    items: [
      { date: '2026-01-03', setting: 'emergency_department' },
      { date: '2026-02-11', setting: 'gp' },
    ],
  });
  t.same(r.releasedPaths, ['items.date', 'items.setting']);
  t.same(r.withheldPaths, ['items.reason', 'items.outcome']);
});

t.test('members.x on a household', async (t) => {
  const household = { members: [{ name: 'A', relationship: 'mother', dateOfBirth: '1990-01-01' }] };
  const r = filterPayload(household, ['members.name', 'members.relationship']);
  t.same(r.released, { members: [{ name: 'A', relationship: 'mother' }] });
  t.same(r.withheldPaths, ['members.dateOfBirth']);
});

t.test('top-level fields, arrays of values, and nothing named', async (t) => {
  const codes = { codes: ['C1', 'C2'], notes: 'private' };
  t.same(filterPayload(codes, ['codes']).released, { codes: ['C1', 'C2'] });
  t.same(filterPayload(codes, ['codes']).withheldPaths, ['notes']);
  const none = filterPayload(codes, []);
  t.same(none.released, {});
  t.same(none.releasedPaths, []);
  t.same(none.withheldPaths, ['codes', 'notes']);
  const rosh = { level: 'high', riskTo: ['children', 'public'], summary: 's' };
  t.same(filterPayload(rosh, ['level', 'riskTo']).released, {
    level: 'high',
    riskTo: ['children', 'public'],
  });
});

t.test('nested free-form details.x, and a whole object', async (t) => {
  const flag = {
    flag: 'mappa_managed',
    details: { level: 2, category: 1, notes: 'x' },
    contact: { team: 'T', phone: '1' },
  };
  const r = filterPayload(flag, ['flag', 'contact', 'details.level']);
  t.same(r.released, { flag: 'mappa_managed', details: { level: 2 }, contact: { team: 'T', phone: '1' } });
  t.same(r.releasedPaths, ['flag', 'details.level', 'contact']);
  t.same(r.withheldPaths, ['details.category', 'details.notes']);
  t.same(
    filterPayload(flag, ['details', 'details.level']).released,
    { details: flag.details },
    'a parent covers its children',
  );
  t.same(
    filterPayload(flag, ['details.level', 'details']).released,
    { details: flag.details },
    'in either order',
  );
});

t.test('paths not present are neither released nor withheld; empty lists stay lists', async (t) => {
  const r = filterPayload({ items: [] }, ['items.date', 'practiceCode']);
  t.same(r.released, { items: [] });
  t.same(r.releasedPaths, []);
  t.same(r.withheldPaths, []);
  const sparse = filterPayload({ items: [{ reason: 'x' }] }, ['items.date']);
  t.same(sparse.released, { items: [{}] }, 'an element keeps its place');
  t.same(sparse.withheldPaths, ['items.reason']);
});

t.test('a list asked for sub-fields but holding bare values is withheld', async (t) => {
  const r = filterPayload({ items: ['a', { date: 'd' }] }, ['items.date']);
  t.same(r.released, { items: [{ date: 'd' }] });
  t.same(r.withheldPaths, ['items']);
});

t.test('a payload that is not an object releases nothing', async (t) => {
  for (const p of [null, 'x', 3, ['a']]) t.same(filterPayload(p, ['x']).released, {});
});

t.test('never mutates the input, and the output shares nothing with it', async (t) => {
  const input = structuredClone(attendances);
  const snapshot = JSON.stringify(input);
  const r = filterPayload<typeof attendances>(input, ['items']);
  t.equal(JSON.stringify(input), snapshot);
  t.same(r.released, input);
  r.released.items[0]!.reason = 'changed';
  t.equal(input.items[0]!.reason, 'fall');
  const d = { details: { deep: { x: 1 } } };
  const r2 = filterPayload<typeof d>(d, ['details']);
  r2.released.details.deep.x = 2;
  t.equal(d.details.deep.x, 1);
});
