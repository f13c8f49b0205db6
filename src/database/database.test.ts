import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/postgres';
import { openDatabase, type Database } from './connection';
import { listMigrations, migrate } from './migrator';

const ALL = listMigrations().map((m) => m.name);

async function roundTrip(db: Database): Promise<void> {
  const id = randomUUID();
  await db.session.query('INSERT INTO tenants (id, name, signing_policy) VALUES ($1, $2, $3)', [
    id,
    'Example News',
    'prefer',
  ]);
  const [row] = await db.session.query<{ name: string; signing_policy: string; created_at: Date }>(
    'SELECT name, signing_policy, created_at FROM tenants WHERE id = $1',
    [id],
  );
  assert.equal(row.name, 'Example News');
  assert.equal(row.signing_policy, 'prefer');
  assert.ok(row.created_at instanceof Date);
}

describe('PostgreSQL (DATABASE_URL)', () => {
  let testDb: TestDatabase;
  const open: Database[] = [];
  before(async () => {
    testDb = await createTestDatabase();
  });
  after(async () => {
    for (const db of open) await db.close();
    await testDb.drop();
  });

  it('applies every migration once, even when two instances start together', async () => {
    const a = await openDatabase({ DATABASE_URL: testDb.url, DATA_DIR: 'unused' });
    const b = await openDatabase({ DATABASE_URL: testDb.url, DATA_DIR: 'unused' });
    open.push(a, b);
    const [fromA, fromB] = await Promise.all([migrate(a.session), migrate(b.session)]);
    assert.deepEqual([...fromA, ...fromB].sort(), ALL, 'each migration applied by exactly one');
    assert.deepEqual(await migrate(a.session), [], 'nothing left to apply');
    await roundTrip(a);
  });

  it('rolls a failing migration back completely', async () => {
    const db = open[0];
    const bad = [
      {
        name: '9999_bad.sql',
        sql: 'CREATE TABLE half_done (x int); SELECT no_such_column FROM tenants;',
      },
    ];
    await assert.rejects(migrate(db.session, [...listMigrations(), ...bad]));
    const rows = await db.session.query("SELECT to_regclass('half_done') AS t");
    assert.equal(rows[0].t, null);
  });
});

describe('embedded PGlite (no DATABASE_URL)', () => {
  it('migrates and round-trips in memory', async () => {
    const db = await openDatabase({ DATA_DIR: 'unused', inMemory: true });
    try {
      assert.equal(db.kind, 'pglite');
      assert.deepEqual(await migrate(db.session), ALL);
      await roundTrip(db);
    } finally {
      await db.close();
    }
  });

  it('keeps its data under DATA_DIR across restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'smime-pglite-'));
    try {
      const first = await openDatabase({ DATA_DIR: dataDir });
      await migrate(first.session);
      await first.session.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [
        randomUUID(),
        'Persisted',
      ]);
      await first.close();
      const second = await openDatabase({ DATA_DIR: dataDir });
      assert.deepEqual(await migrate(second.session), []);
      const rows = await second.session.query<{ name: string }>('SELECT name FROM tenants');
      assert.deepEqual(
        rows.map((r) => r.name),
        ['Persisted'],
      );
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
