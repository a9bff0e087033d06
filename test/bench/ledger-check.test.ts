import t from 'tap';
import { JOURNEY_ACTIONS, ledgerChecks } from '../../scripts/bench/ledger-check.js';

const names = { flag_search: 'flag search', ledgered_read: 'ledgered read' };

t.test('every answered request has its entry: PASS, extra entries allowed', async (t) => {
  const [search, read] = ledgerChecks(
    names,
    { flag_search: 100, ledgered_read: 50 },
    { 'flag.searched': 101, 'disclosure.viewed': 50, 'flag.published': 2000 },
  );
  t.match(search, { verdict: 'PASS', what: /flag search: flag.searched/ });
  t.equal(search?.measured, 1.01);
  t.match(read, { verdict: 'PASS', measured: 1 });
  t.notOk(search && 'note' in search);
});

t.test('an answered request without its entry is a MISS that counts them', async (t) => {
  const [search] = ledgerChecks(names, { flag_search: 100 }, { 'flag.searched': 97 });
  t.match(search, { verdict: 'MISS', note: /3 answered request\(s\) without an entry/ });
  const [none] = ledgerChecks(names, { flag_search: 0 }, {});
  t.equal(none?.verdict, 'MISS', 'a journey that answered nothing proves nothing');
});

t.test('each journey names the action it must write', async (t) => {
  t.same(Object.keys(JOURNEY_ACTIONS).sort(), [
    'concern_submit',
    'flag_search',
    'ledgered_read',
    'request_create',
    'response_release',
  ]);
});
