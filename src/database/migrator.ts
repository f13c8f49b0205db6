/**
 * Applies src/database/migrations/*.sql in name order, each once and in its own
 * transaction, on PostgreSQL or the embedded PGlite alike. On PostgreSQL an advisory lock
 * keeps two instances starting together from applying the same migration twice.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The little a migration needs from a driver. */
export interface SqlSession {
  exec(sql: string): Promise<void>;
  /**
   * `name` makes it a prepared statement on PostgreSQL (parsed and planned once per
   * connection); use it for the relay's per-message statements only.
   */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], name?: string): Promise<T[]>;
  /** Run `fn` in one transaction on one connection. */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
  readonly kind: 'postgres' | 'pglite';
}

export const MIGRATIONS_DIR = join(__dirname, 'migrations');
const LOCK_ID = 7261_4401; // arbitrary, constant: "smime-relay migrations"

export interface Migration {
  name: string;
  sql: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') }));
}

/** Apply what is missing; returns the names applied now. */
export async function migrate(db: SqlSession, migrations = listMigrations()): Promise<string[]> {
  return db.transaction(async (tx) => {
    if (tx.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS smime_relay_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await tx.query<{ name: string }>('SELECT name FROM smime_relay_migrations')).map(
        (r) => r.name,
      ),
    );
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO smime_relay_migrations (name) VALUES ($1)', [m.name]);
      applied.push(m.name);
    }
    return applied;
  });
}
