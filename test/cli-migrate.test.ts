/**
 * `smime-relay migrate` against the machine's PostgreSQL and against the embedded default.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createTestDatabase } from './helpers/postgres';
import { cli, show } from './support/cli';
import { listMigrations } from '../src/database/migrator';
import { Pool } from 'pg';

describe('smime-relay migrate', () => {
  test('applies the migrations to PostgreSQL once', async () => {
    const db = await createTestDatabase();
    try {
      const env = { DATABASE_URL: db.url };
      const first = await cli(['migrate'], { env });
      assert.equal(first.code, 0, show(first));
      const names = listMigrations().map((m) => m.name);
      assert.ok(names.length >= 7 && names[0] === '0001_service_core.sql', names.join());
      assert.ok(
        first.stdout.toString().includes(`applied ${names.join(', ')} to the PostgreSQL`),
        first.stdout.toString(),
      );
      const second = await cli(['migrate'], { env });
      assert.equal(second.code, 0, show(second));
      assert.match(second.stdout.toString(), /up to date/);
      // This machine's PostgreSQL has lz4 (0010): bodies are compressed with it.
      const pool = new Pool({ connectionString: db.url, max: 1 });
      try {
        const { rows } = await pool.query<{ c: string; s: string }>(
          `SELECT attcompression AS c, attstorage AS s FROM pg_attribute
            WHERE attrelid = 'messages'::regclass AND attname = 'raw'`,
        );
        assert.deepEqual(rows, [{ c: 'l', s: 'x' }], 'lz4, compressed out of line');
      } finally {
        await pool.end();
      }
    } finally {
      await db.drop();
    }
  });

  test('uses the embedded database under DATA_DIR without DATABASE_URL', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'smime-migrate-'));
    try {
      const r = await cli(['migrate'], { env: { DATA_DIR: dataDir, DATABASE_URL: '' } });
      assert.equal(r.code, 0, show(r));
      assert.match(
        r.stdout.toString(),
        new RegExp(`applied .* to the embedded database in ${dataDir}`),
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('a bad DATABASE_URL stops with a config error naming the variable', async () => {
    const r = await cli(['migrate'], { env: { DATABASE_URL: 'mysql://user:hunter2@db/x' } });
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /^error \[config\]: .*\n {2}DATABASE_URL: /);
    assert.doesNotMatch(r.stderr, /hunter2/);
  });
});
