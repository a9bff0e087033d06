import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import {
  type Db,
  EmbeddedDatabaseBusyError,
  migrate,
  openStore,
  StoreUnavailableError,
} from '../../src/store/index.js';
import { MIGRATIONS, type Migration } from '../../src/store/migrations/index.js';
import { openPglite } from '../../src/store/pglite.js';
import { openPostgres } from '../../src/store/postgres.js';
import { createTestDatabase } from '../helpers/db.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

const ALL_IDS = MIGRATIONS.map((m) => m.id);

async function freshPostgres(t: Teardown, opts: { max?: number } = {}): Promise<{ db: Db; url: string }> {
  const database = await createTestDatabase('sgw_store');
  const db = openPostgres(database.url, opts);
  t.teardown(async () => {
    await db.close().catch(() => {});
    await database.drop();
  });
  return { db, url: database.url };
}

async function freshPglite(t: Teardown): Promise<Db> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sgw-pglite-'));
  const db = await openPglite(dir);
  t.teardown(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

const BACKENDS: Array<['postgres' | 'pglite', (t: Teardown) => Promise<Db>]> = [
  ['postgres', async (t) => (await freshPostgres(t)).db],
  ['pglite', freshPglite],
];

for (const [backend, open] of BACKENDS) {
  t.test(`${backend}: migrations`, async (t) => {
    const db = await open(t);
    t.equal(db.backend, backend);
    t.same(await migrate(db), ALL_IDS, 'every migration applied on a fresh database');
    t.same(await migrate(db), [], 'a second run applies nothing');
    const rows = await db.query<{ id: number; name: string; applied_at: string }>(
      'SELECT id, name, applied_at FROM schema_migrations ORDER BY id',
    );
    t.same(
      rows.map((r) => ({ id: r.id, name: r.name })),
      MIGRATIONS.map((m) => ({ id: m.id, name: m.name })),
    );
    for (const r of rows) t.match(r.applied_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    // A later release adds migrations: only the new ones run.
    const extra: Migration[] = [
      ...MIGRATIONS,
      { id: ALL_IDS.length + 1, name: 'test_extra', sql: 'CREATE TABLE test_extra (x int);' },
    ];
    t.same(await migrate(db, extra), [ALL_IDS.length + 1]);
    t.same(await migrate(db, extra), []);
    t.same(await db.query('SELECT count(*) AS n FROM test_extra'), [{ n: 0 }]);
  });

  t.test(`${backend}: a failing migration applies nothing`, async (t) => {
    const db = await open(t);
    const broken: Migration[] = [
      { id: 1, name: 'good', sql: 'CREATE TABLE good_one (x int);' },
      { id: 2, name: 'bad', sql: 'CREATE TABLE bad_one (x nonexistent_type);' },
    ];
    await t.rejects(migrate(db, broken));
    const exists = await db.query<{ t: string | null }>("SELECT to_regclass('public.good_one')::text AS t");
    t.equal(exists[0]?.t, null, 'the good migration was rolled back with the bad one');
    const done = await db.query("SELECT to_regclass('public.schema_migrations')::text AS t");
    if (done[0]?.t !== null) t.same(await db.query('SELECT id FROM schema_migrations'), []);
    // Out-of-order lists are refused before anything runs.
    await t.rejects(migrate(db, [{ id: 2, name: 'gap', sql: 'SELECT 1' }]), /expected 1/);
  });

  t.test(`${backend}: transactions commit and roll back`, async (t) => {
    const db = await open(t);
    await db.exec('CREATE TABLE tx_test (id int PRIMARY KEY, note text)');

    const result = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO tx_test VALUES ($1, $2)', [1, 'one']);
      await tx.query('INSERT INTO tx_test VALUES ($1, $2)', [2, 'two']);
      return 'done';
    });
    t.equal(result, 'done', 'the transaction returns fn’s value');
    t.same(await db.query('SELECT id, note FROM tx_test ORDER BY id'), [
      { id: 1, note: 'one' },
      { id: 2, note: 'two' },
    ]);

    const boom = new Error('boom');
    await t.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_test VALUES ($1, $2)', [3, 'three']);
        await tx.query('UPDATE tx_test SET note = $1 WHERE id = 1', ['changed']);
        throw boom;
      }),
      boom,
      'the error from fn is rethrown as is',
    );
    await t.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_test VALUES ($1, $2)', [4, 'four']);
        await tx.query('INSERT INTO tx_test VALUES ($1, $2)', [1, 'duplicate']);
      }),
      'an SQL error inside rolls back too',
    );
    t.same(await db.query('SELECT id, note FROM tx_test ORDER BY id'), [
      { id: 1, note: 'one' },
      { id: 2, note: 'two' },
    ]);

    // The store still works after a rollback (the connection was returned clean).
    await db.transaction(async (tx) => {
      await tx.exec("INSERT INTO tx_test VALUES (5, 'five'); INSERT INTO tx_test VALUES (6, 'six');");
    });
    t.same(await db.query('SELECT count(*) AS n FROM tx_test'), [{ n: 4 }]);
  });

  t.test(`${backend}: int8 as number, timestamps as RFC 3339 UTC, dates as YYYY-MM-DD`, async (t) => {
    const db = await open(t);
    const [row] = await db.query(
      `SELECT 42::int8 AS n, 9007199254740991::int8 AS big, count(*) AS c,
              '2024-01-02T03:04:05.678+02:00'::timestamptz AS at,
              '2024-01-02 03:04:05'::timestamp AS ts,
              '2024-02-29'::date AS d, now() AS now
         FROM (VALUES (1), (2), (3)) v(x)`,
    );
    t.equal(row?.n, 42);
    t.equal(row?.big, Number.MAX_SAFE_INTEGER);
    t.equal(row?.c, 3, 'count(*) is a number');
    t.equal(row?.at, '2024-01-02T01:04:05.678Z');
    t.equal(row?.ts, '2024-01-02T03:04:05.000Z');
    t.equal(row?.d, '2024-02-29');
    t.type(row?.now, 'string');
    t.ok(Math.abs(Date.parse(String(row?.now)) - Date.now()) < 60_000);

    await db.exec('CREATE TABLE types_test (id bigserial PRIMARY KEY, at timestamptz NOT NULL)');
    const [inserted] = await db.transaction((tx) =>
      tx.query('INSERT INTO types_test (at) VALUES ($1) RETURNING id, at', ['2025-06-30T23:59:59.999Z']),
    );
    t.same(inserted, { id: 1, at: '2025-06-30T23:59:59.999Z' }, 'the same inside a transaction');
  });

  t.test(`${backend}: SQL errors are not reported as the store being unavailable`, async (t) => {
    const db = await open(t);
    let caught: unknown;
    try {
      await db.query('SELECT * FROM no_such_table');
    } catch (err) {
      caught = err;
    }
    t.ok(caught);
    t.notOk(caught instanceof StoreUnavailableError);
  });
}

t.test('postgres: concurrent migrate() from several pools applies each migration once', async (t) => {
  const { url } = await freshPostgres(t);
  const dbs = Array.from({ length: 6 }, () => openPostgres(url, { max: 2 }));
  t.teardown(() => Promise.all(dbs.map((d) => d.close())));
  const results = await Promise.all(dbs.map((d) => migrate(d)));
  t.same(
    results.flat().sort((a, b) => a - b),
    ALL_IDS,
    'every migration id was applied by exactly one caller',
  );
  t.equal(results.filter((r) => r.length > 0).length, 1, 'one caller did all the work');
  const rows = await dbs[0]!.query<{ id: number; n: number }>(
    'SELECT id, count(*) AS n FROM schema_migrations GROUP BY id ORDER BY id',
  );
  t.same(
    rows,
    ALL_IDS.map((id) => ({ id, n: 1 })),
  );
});

t.test('postgres: three gateway processes migrating at once apply each migration once', async (t) => {
  const { db, url } = await freshPostgres(t);
  // Each process connects, says "ready" and waits for "go" on stdin, so that all migrate at the same moment.
  const script = `
    import { once } from 'node:events';
    import { openPostgres } from './src/store/postgres.js';
    import { migrate } from './src/store/migrate.js';
    const db = openPostgres(process.argv[1]);
    await db.query('SELECT 1');
    console.log('ready');
    await once(process.stdin, 'data');
    try { console.log(JSON.stringify(await migrate(db))); } finally { await db.close(); }`;
  const children = Array.from({ length: 3 }, () =>
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, url], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  t.teardown(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });
  const results = children.map(
    (child) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
        });
        child.stderr.on('data', (c: Buffer) => {
          err += c.toString();
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, out, err }));
      }),
  );
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          let seen = '';
          child.stdout.on('data', (c: Buffer) => {
            seen += c.toString();
            if (seen.includes('ready')) resolve();
          });
          child.on('close', () => reject(new Error('child exited before it was ready')));
        }),
    ),
  );
  for (const c of children) c.stdin.end('go\n');
  const done = await Promise.all(results);
  for (const r of done) t.equal(r.code, 0, r.err);
  const applied = done.map((r) => JSON.parse(r.out.trim().split('\n').at(-1) ?? 'null') as number[]);
  t.same(
    applied.flat().sort((a, b) => a - b),
    ALL_IDS,
    'each migration applied by exactly one process',
  );
  t.same(
    await db.query('SELECT id, count(*) AS n FROM schema_migrations GROUP BY id ORDER BY id'),
    ALL_IDS.map((id) => ({ id, n: 1 })),
  );
});

t.test('openStore picks the backend from DATABASE_URL and migrates', async (t) => {
  const database = await createTestDatabase('sgw_store');
  t.teardown(() => database.drop());
  const pgStore = await openStore({ databaseUrl: database.url, dataDir: '/nonexistent' });
  t.equal(pgStore.backend, 'postgres');
  t.same(
    (await pgStore.query<{ id: number }>('SELECT id FROM schema_migrations ORDER BY id')).map((r) => r.id),
    ALL_IDS,
  );
  await pgStore.close();

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-data-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const lite = await openStore({ databaseUrl: undefined, dataDir });
  t.equal(lite.backend, 'pglite');
  t.same(
    (await lite.query<{ id: number }>('SELECT id FROM schema_migrations ORDER BY id')).map((r) => r.id),
    ALL_IDS,
  );
  await lite.exec('CREATE TABLE persisted (x int); INSERT INTO persisted VALUES (7);');
  await lite.close();
  await t.rejects(lite.query('SELECT 1'), StoreUnavailableError, 'a closed store says unavailable');

  const again = await openStore({ databaseUrl: undefined, dataDir });
  t.same(await again.query('SELECT x FROM persisted'), [{ x: 7 }], 'PGlite data persists under SGW_DATA_DIR');
  await again.close();
});

t.test('an unreachable PostgreSQL is a StoreUnavailableError', async (t) => {
  const db = openPostgres('postgres://postgres@127.0.0.1:1/nothing');
  t.teardown(() => db.close());
  await t.rejects(db.query('SELECT 1'), StoreUnavailableError, 'query');
  await t.rejects(db.exec('SELECT 1'), StoreUnavailableError, 'exec');
  await t.rejects(
    db.transaction(async (tx) => tx.query('SELECT 1')),
    StoreUnavailableError,
    'transaction',
  );
  await t.rejects(
    openStore({ databaseUrl: 'postgres://postgres@127.0.0.1:1/nothing', dataDir: '/nonexistent' }),
    StoreUnavailableError,
    'openStore',
  );
});

t.test('PostgreSQL going away mid-transaction is a StoreUnavailableError, not a crash', async (t) => {
  const { db, url } = await freshPostgres(t, { max: 1 });
  await db.exec('CREATE TABLE kept (x int)');
  const name = new URL(url).pathname.slice(1);
  const admin = openPostgres('postgres://postgres@127.0.0.1:5432/postgres');
  t.teardown(() => admin.close());
  const killBackends = () =>
    admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);

  // The server drops the connection while the transaction's client is checked out and idle: the
  // client's 'error' event must not become an uncaught exception (tap would fail the test on one).
  await t.rejects(
    db.transaction(async (tx) => {
      await tx.query('INSERT INTO kept VALUES (1)');
      await killBackends();
      await new Promise((r) => setTimeout(r, 200));
      await tx.query('INSERT INTO kept VALUES (2)');
    }),
    StoreUnavailableError,
  );
  // The pool recovers with a new connection, and nothing of the broken transaction was kept.
  t.same(await db.query('SELECT count(*) AS n FROM kept'), [{ n: 0 }]);

  // An idle pooled connection killed under us: reported or transparently replaced, never a crash.
  await killBackends();
  try {
    await db.transaction((tx) => tx.query('SELECT 1'));
  } catch (err) {
    t.type(err, StoreUnavailableError);
  }
  t.same(await db.query('SELECT 1 AS ok'), [{ ok: 1 }]);
});

t.test('pglite: one process at a time; a lock left by a dead process is taken over', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-pglite-lock-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const lock = path.join(dataDir, 'sgw.lock');

  // Another live process holds it (the test's parent stands in for a running gateway).
  writeFileSync(lock, String(process.ppid));
  const err = await openPglite(dataDir).catch((e: unknown) => e);
  t.type(err, EmbeddedDatabaseBusyError);
  t.match((err as Error).message, new RegExp(`open in process ${process.ppid}`));

  // A process that has exited leaves a stale lock: taken over, and released on close.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  writeFileSync(lock, String(dead));
  const db = await openPglite(dataDir);
  t.equal(readFileSync(lock, 'utf8'), String(process.pid), 'held by this process while open');
  await db.close();
  t.notOk(existsSync(lock), 'released on close');
});
