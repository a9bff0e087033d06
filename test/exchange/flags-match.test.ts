import { createHmac } from 'node:crypto';
import t from 'tap';
import {
  identityHashes,
  matchOf,
  normaliseName,
  normalisePncId,
  subjectKeyOf,
  taggedIdentifiers,
} from '../../src/exchange/flags/match.js';

/** Flag matching and normalisation (src/exchange/flags/match.ts): pure, no database. */
const KEY = Buffer.alloc(32, 7);
const hash = (tagged: string) => createHmac('sha256', KEY).update(tagged, 'utf8').digest('hex');
const hashes = (s: Parameters<typeof identityHashes>[0]) => identityHashes(s, hash);

t.test('names: case, spacing, hyphens, apostrophes and accents make no difference', async (t) => {
  t.equal(normaliseName("Zoë O'Brien-Smith"), 'zoeobriensmith');
  t.equal(normaliseName('ZOE OBRIEN SMITH'), 'zoeobriensmith');
  t.equal(normaliseName('  zoe   o’brien  smith '), 'zoeobriensmith', 'typographic apostrophe, extra spaces');
  t.equal(normaliseName('Zoe\u0308'), 'zoe', 'a combining diaeresis is dropped');
  t.equal(normaliseName('Renée'), normaliseName('RENEE'));
  t.equal(normaliseName('Anne-Marie'), normaliseName('Anne Marie'));
  t.equal(normaliseName('St. John'), 'stjohn');
  t.equal(normaliseName('ﬁona'), 'fiona', 'compatibility ligature decomposed');
  t.not(normaliseName('Zoe'), normaliseName('Chloe'));
  t.not(normaliseName('Łukasz'), '', 'letters without a decomposition are kept');
});

t.test('PNC ids: spacing, case and the serial number’s leading zeros', async (t) => {
  t.equal(normalisePncId('2001/0012345x'), '2001/12345X');
  t.equal(normalisePncId(' 2001/12345X '), '2001/12345X');
  t.equal(normalisePncId('01/0000001A'), '01/1A');
  t.not(normalisePncId('2001/12345X'), normalisePncId('01/12345X'), 'a two-digit year is not guessed');
});

t.test('tagged identifiers: the index’s own tags, one per kind of identifier', async (t) => {
  const tagged = taggedIdentifiers({
    type: 'child',
    nhsNumber: '9434765919',
    pncId: '2001/0012345x',
    name: { given: 'Zoë', family: "O'Brien-Smith" },
    dateOfBirth: '2019-05-04',
  });
  t.same(tagged, {
    nhs: 'flag-nhs:9434765919',
    pnc: 'flag-pnc:2001/12345X',
    nameDob: 'flag-name-dob:zoe\nobriensmith\n2019-05-04',
    nameEdd: undefined,
  });
  t.same(
    taggedIdentifiers({
      type: 'unborn',
      name: { given: 'Jo', family: 'Example' },
      expectedDeliveryDate: '2027-01-02',
    }),
    {
      nhs: undefined,
      pnc: undefined,
      nameDob: undefined,
      nameEdd: 'flag-name-edd:jo\nexample\n2027-01-02',
    },
  );
  t.not(
    taggedIdentifiers({ name: { given: 'Mary Ann', family: 'Smith' }, dateOfBirth: '2000-01-01' }).nameDob,
    taggedIdentifiers({ name: { given: 'Mary', family: 'Ann Smith' }, dateOfBirth: '2000-01-01' }).nameDob,
    'given and family names stay apart',
  );
});

t.test('hashes: keyed, never the identifier; the subject key is the strongest identifier', async (t) => {
  const h = hashes({ type: 'adult', nhsNumber: '9434765919', pncId: '2001/12345X' });
  t.match(h.nhs, /^[0-9a-f]{64}$/);
  t.notOk(JSON.stringify(h).includes('9434765919'));
  t.equal(h.nhs, hash('flag-nhs:9434765919'));
  t.equal(subjectKeyOf(h), h.nhs);
  t.equal(subjectKeyOf(hashes({ type: 'adult', pncId: '2001/12345X' })), hash('flag-pnc:2001/12345X'));
  const byName = hashes({ type: 'child', name: { given: 'A', family: 'B' }, dateOfBirth: '2020-01-01' });
  t.equal(subjectKeyOf(byName), byName.nameDob);
  t.equal(subjectKeyOf({}), undefined);
  const other = identityHashes({ type: 'adult', nhsNumber: '9434765919' }, (s) =>
    createHmac('sha256', Buffer.alloc(32, 8)).update(s).digest('hex'),
  );
  t.not(other.nhs, h.nhs, 'another secret, another hash');
});

t.test('matching', async (t) => {
  const zoe = { name: { given: "Zoë O'Brien", family: 'Smith' }, dateOfBirth: '2019-05-04' };
  const zoeShouted = { name: { given: 'ZOE OBRIEN', family: 'SMITH' }, dateOfBirth: '2019-05-04' };
  const cases: Array<{
    desc: string;
    searched: object;
    flag: object;
    want: 'exact' | 'possible' | undefined;
  }> = [
    {
      desc: 'same NHS number',
      searched: { nhsNumber: '9434765919' },
      flag: { nhsNumber: '9434765919' },
      want: 'exact',
    },
    {
      desc: 'same PNC id, written differently',
      searched: { pncId: '2001/0012345x' },
      flag: { pncId: '2001/12345X' },
      want: 'exact',
    },
    {
      desc: 'different NHS numbers',
      searched: { nhsNumber: '9434765919' },
      flag: { nhsNumber: '9434765870' },
      want: undefined,
    },
    {
      desc: 'name and date of birth only, accents and case aside',
      searched: zoeShouted,
      flag: zoe,
      want: 'possible',
    },
    {
      desc: 'a different NHS number defeats an agreeing name and date of birth',
      searched: { ...zoeShouted, nhsNumber: '9434765919' },
      flag: { ...zoe, nhsNumber: '9434765870' },
      want: undefined,
    },
    {
      desc: 'a different PNC id defeats an agreeing NHS number',
      searched: { nhsNumber: '9434765919', pncId: '2001/12345X' },
      flag: { nhsNumber: '9434765919', pncId: '2002/12345X' },
      want: undefined,
    },
    {
      desc: 'an NHS number only the search carries: the name decides, and only as possible',
      searched: { ...zoeShouted, nhsNumber: '9434765919' },
      flag: zoe,
      want: 'possible',
    },
    {
      desc: 'an NHS number only the flag carries: possible at most',
      searched: zoeShouted,
      flag: { ...zoe, nhsNumber: '9434765919' },
      want: 'possible',
    },
    {
      desc: 'an agreeing NHS number is exact even when the names differ',
      searched: {
        nhsNumber: '9434765919',
        name: { given: 'Zoey', family: 'Smith' },
        dateOfBirth: '2019-05-04',
      },
      flag: { ...zoe, nhsNumber: '9434765919' },
      want: 'exact',
    },
    {
      desc: 'another date of birth',
      searched: { ...zoe, dateOfBirth: '2019-05-05' },
      flag: zoe,
      want: undefined,
    },
    {
      desc: 'a parent’s name and expected delivery date (unborn)',
      searched: { name: { given: 'JO', family: 'EXAMPLE' }, expectedDeliveryDate: '2027-01-02' },
      flag: { name: { given: 'Jo', family: 'Example' }, expectedDeliveryDate: '2027-01-02' },
      want: 'possible',
    },
    { desc: 'nothing in common', searched: { nhsNumber: '9434765919' }, flag: zoe, want: undefined },
  ];
  for (const c of cases) t.equal(matchOf(hashes(c.searched), hashes(c.flag)), c.want, c.desc);
});
