/**
 * Flag search on 100,000 flags: the real service path (FlagService.search, as POST /v1/flags/search
 * calls it: hashing, one indexed query per subject, policy decision and field filter per flag, and the
 * ledgered transaction with its flag.searched entries and flag.accessed events, the sequencer running)
 * against a plain indexed SELECT of one flag by its NHS hash, on the same PostgreSQL in the same run.
 * One search at a time, so that the figures are latencies. Target: p99 under 50 ms.
 *
 *   node --import tsx scripts/bench-flags.ts   (BENCH_PG_ADMIN_URL, BENCH_FLAGS, BENCH_SEARCHES to override)
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { identityHashes, subjectKeyOf } from '../src/exchange/flags/match.js';
import { FlagService } from '../src/exchange/flags/service.js';
import type { Practitioner } from '../src/identity/index.js';
import { createLedger } from '../src/ledger/index.js';
import { type FlagType, loadBundle } from '../src/policy/index.js';
import { migrate } from '../src/store/migrate.js';
import { openPostgres } from '../src/store/postgres.js';

const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const FLAGS = Number(process.env.BENCH_FLAGS ?? 100_000);
const SEARCHES = Number(process.env.BENCH_SEARCHES ?? 2000);
const BATCH = 5000;
const POLICIES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'policies');

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function keys(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sgw-bench-keys-'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(path.join(dir, 'ledger-signing.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(path.join(dir, 'ledger-signing.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(path.join(dir, 'subject-hmac.key'), randomBytes(32).toString('hex'));
  return dir;
}

/** The i-th valid NHS number from 600,000,000 on (modulus 11; a check digit of 10 is skipped). */
function* nhsNumbers(): Generator<string> {
  for (let b = 600_000_000; ; b++) {
    const digits = String(b);
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (10 - i);
    const check = 11 - (sum % 11);
    if (check !== 10) yield `${digits}${check === 11 ? 0 : check}`;
  }
}

const GIVEN = ['Zoë', 'Sam', 'Alex', 'Jo', 'Kit', 'Lee', 'Amélie', 'Noah', 'Maya', 'Ravi', 'Aoife', 'Tom'];
const FAMILY = ["O'Brien-Smith", 'Example', 'Marsh', 'Doyle', 'Khan', 'Nowak', 'Evans', 'Okafor', 'Price'];
const PUBLISHERS: Array<{ agency: string; kind: string; flag: FlagType; type: 'child' | 'adult' }> = [
  { agency: 'csc-1', kind: 'children_social_care', flag: 'child_protection_plan', type: 'child' },
  { agency: 'csc-2', kind: 'children_social_care', flag: 'looked_after_child', type: 'child' },
  { agency: 'probation-1', kind: 'probation', flag: 'mappa_managed', type: 'adult' },
  { agency: 'police-1', kind: 'police', flag: 'risk_to_children', type: 'adult' },
  { agency: 'police-1', kind: 'police', flag: 'registered_sex_offender', type: 'adult' },
];

interface Person {
  type: 'child' | 'adult';
  nhsNumber: string;
  pncId?: string;
  name: { given: string; family: string };
  dateOfBirth: string;
}

function person(i: number, nhs: string, type: 'child' | 'adult'): Person {
  const year = type === 'child' ? 2008 + (i % 17) : 1960 + (i % 40);
  const dob = `${year}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`;
  return {
    type,
    nhsNumber: nhs,
    ...(type === 'adult' ? { pncId: `${year}/${String(i).padStart(7, '0')}A` } : {}),
    name: { given: GIVEN[i % GIVEN.length] as string, family: `${FAMILY[i % FAMILY.length]}${i}` },
    dateOfBirth: dob,
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function timed(n: number, op: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < Math.min(100, n); i++) await op(i);
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await op(i);
    ms.push(performance.now() - start);
  }
  ms.sort((a, b) => a - b);
  return { p50: quantile(ms, 0.5), p99: quantile(ms, 0.99) };
}

const name = `sgw_bench_flags_${randomBytes(4).toString('hex')}`;
const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
const certsDir = keys();
await admin(`CREATE DATABASE ${name}`);
const db = openPostgres(url, { max: 10 });
try {
  await migrate(db);
  const loaded = await loadBundle(POLICIES);
  if (!loaded.ok) throw new Error(`policy bundle refused: ${loaded.errors.map((e) => e.message).join('; ')}`);
  const bundle = loaded.bundle;
  const ledger = createLedger({ db, certsDir, gatewayId: 'bench' });
  await ledger.start();
  const hash = (tagged: string) => ledger.keyedHash(tagged);

  const people: Person[] = [];
  const numbers = nhsNumbers();
  const loadStart = performance.now();
  for (let start = 0; start < FLAGS; start += BATCH) {
    const rows = [];
    for (let i = start; i < Math.min(FLAGS, start + BATCH); i++) {
      const pub = PUBLISHERS[i % PUBLISHERS.length]!;
      const p = person(i, numbers.next().value as string, pub.type);
      people.push(p);
      const h = identityHashes(p, hash);
      rows.push({
        id: randomUUID(),
        agency_id: pub.agency,
        agency_kind: pub.kind,
        flag: pub.flag,
        subject_type: p.type,
        subject_key: subjectKeyOf(h),
        nhs_hash: h.nhs ?? null,
        pnc_hash: h.pnc ?? null,
        name_dob_hash: h.nameDob ?? null,
        details: pub.type === 'adult' ? { level: 1 + (i % 3), category: 1 + (i % 4) } : null,
        contact: { team: `${pub.agency} duty team`, phone: '01632 960000' },
      });
    }
    await db.query(
      `INSERT INTO flags (id, agency_id, agency_kind, flag, subject_type, subject_key, nhs_hash, pnc_hash,
         name_dob_hash, details, contact, valid_from, published_at, published_by_sub, updated_at, updated_by_sub)
       SELECT x.id, x.agency_id, x.agency_kind, x.flag, x.subject_type, x.subject_key, x.nhs_hash, x.pnc_hash,
         x.name_dob_hash, x.details, x.contact, '2025-01-01', now(), 'bench', now(), 'bench'
         FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, agency_id text, agency_kind text, flag text,
           subject_type text, subject_key text, nhs_hash text, pnc_hash text, name_dob_hash text,
           details jsonb, contact jsonb)`,
      [JSON.stringify(rows)],
    );
  }
  await db.query('ANALYZE flags');
  const [count] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM flags');
  console.log(
    `PostgreSQL ${url.replace(/\/\/[^@]*@/, '//')}: ${count?.n} flags loaded in ${((performance.now() - loadStart) / 1000).toFixed(1)} s; ${SEARCHES} searches per point, one at a time`,
  );

  const service = new FlagService({
    db,
    ledger,
    policies: { current: () => bundle, loadedAt: new Date() },
    agencies: { agency: (id) => ({ name: id }) },
  });
  const officer: Practitioner = {
    agency: 'bench-police',
    kind: 'police',
    sub: 'po-bench',
    role: 'police_officer',
    name: 'Bench',
    jti: 'bench',
  };
  const purpose = 'risk_to_children_check' as const;
  const pick = (i: number) => people[(i * 7919) % people.length] as Person;
  // Every fourth search finds nothing: the hashes of people who are not in the index.
  const absent = (i: number): Person => person(FLAGS + i, numbers.next().value as string, 'adult');
  const single = (i: number) => {
    const p = i % 4 === 3 ? absent(i) : pick(i);
    return i % 8 === 1 ? { type: p.type, name: p.name, dateOfBirth: p.dateOfBirth } : p;
  };

  const plain = await timed(SEARCHES, (i) =>
    db.query('SELECT * FROM flags WHERE nhs_hash = $1 AND ended_at IS NULL', [
      hash(`flag-nhs:${pick(i).nhsNumber}`),
    ]),
  );
  const one = await timed(SEARCHES, (i) => service.search(officer, { subject: single(i), purpose }));
  const household = await timed(Math.ceil(SEARCHES / 5), (i) =>
    service.search(officer, { subjects: [0, 1, 2, 3, 4].map((k) => single(i * 5 + k)), purpose }),
  );

  const plan = await db.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN (COSTS OFF) SELECT * FROM flags WHERE ended_at IS NULL AND (nhs_hash = $1 OR pnc_hash = $2 OR name_dob_hash = $3)
       AND valid_from <= now() AND (valid_to IS NULL OR valid_to > now())`,
    ['a', 'b', 'c'],
  );
  const fmt = (x: { p50: number; p99: number }) => `p50 ${x.p50.toFixed(2)} ms  p99 ${x.p99.toFixed(2)} ms`;
  console.log(`plain indexed SELECT (baseline)              ${fmt(plain)}`);
  console.log(`flag search, one subject (ledgered)          ${fmt(one)}`);
  console.log(`flag search, household of 5 (ledgered)       ${fmt(household)}`);
  console.log(
    `ratio one subject / baseline:  p50 ${(one.p50 / plain.p50).toFixed(1)}  p99 ${(one.p99 / plain.p99).toFixed(1)}`,
  );
  console.log(
    `ratio household / baseline:    p50 ${(household.p50 / plain.p50).toFixed(1)}  p99 ${(household.p99 / plain.p99).toFixed(1)}`,
  );
  console.log(`target p99 < 50 ms (one subject): ${one.p99 < 50 ? 'met' : 'NOT met'}`);
  console.log(`search plan: ${plan.map((r) => r['QUERY PLAN'].trim()).join(' | ')}`);
  await ledger.flush();
  await ledger.stop();
  const [searched] = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM ledger_entries WHERE action = 'flag.searched'",
  );
  console.log(`flag.searched entries written and sequenced: ${searched?.n}`);
} finally {
  await db.close();
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  rmSync(certsDir, { recursive: true, force: true });
}
