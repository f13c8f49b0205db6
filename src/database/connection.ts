/**
 * One database, two drivers: PostgreSQL when DATABASE_URL is set, otherwise an embedded
 * PostgreSQL (PGlite) under DATA_DIR, so the service runs on a fresh machine with nothing
 * configured. Both get the same migrations; queries are named SQL in each table's
 * repository (docs/development.md).
 */
import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Pool, type PoolClient } from 'pg';
import type { SqlSession } from './migrator';

export interface Database {
  kind: 'postgres' | 'pglite';
  session: SqlSession;
  close(): Promise<void>;
}

function clientSession(client: Pool | PoolClient): SqlSession {
  return {
    kind: 'postgres',
    async exec(sql) {
      await client.query(sql);
    },
    async query(sql, params, name) {
      const result = name
        ? await client.query({ name, text: sql, values: params })
        : await client.query(sql, params);
      return result.rows;
    },
    async transaction(fn) {
      const pooled = client instanceof Pool;
      const c = pooled ? await client.connect() : client;
      // A checked-out connection has no listener of the pool's: if the server goes away
      // between two statements of the transaction, its 'error' would be unhandled and end
      // the process. It is kept here, the statement in flight fails, and the broken
      // connection is destroyed on release instead of going back to the pool.
      let broken: Error | undefined;
      const onError = (e: Error) => {
        broken = e;
      };
      if (pooled) c.on('error', onError);
      try {
        await c.query('BEGIN');
        const result = await fn(clientSession(c));
        await c.query('COMMIT');
        return result;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        if (pooled) {
          c.off('error', onError);
          (c as PoolClient).release(broken);
        }
      }
    },
  };
}

type PgliteLike = Pick<PGlite, 'exec' | 'query'> & { transaction?: PGlite['transaction'] };

function pgliteSession(db: PgliteLike, root: PGlite): SqlSession {
  return {
    kind: 'pglite',
    async exec(sql) {
      await db.exec(sql);
    },
    async query(sql, params) {
      return (await db.query(sql, params)).rows as never[];
    },
    transaction: (fn) =>
      root.transaction((tx) => fn(pgliteSession(tx as unknown as PgliteLike, root))),
  };
}

export interface DatabaseOptions {
  DATABASE_URL?: string;
  DATA_DIR: string;
  /** Embedded database in memory instead of DATA_DIR (tests). */
  inMemory?: boolean;
  /** Called when an idle PostgreSQL connection fails; the default writes a warning. */
  onIdleError?: (e: Error) => void;
}

const warnIdle = (e: Error): void =>
  process.emitWarning(`an idle database connection failed and will be replaced: ${e.message}`);

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.DATABASE_URL) {
    const pool = new Pool({ connectionString: options.DATABASE_URL, max: 10 });
    // An idle connection that the server drops (restart, failover) must not crash the
    // process; the pool replaces it on the next query.
    pool.on('error', (e) => (options.onIdleError ?? warnIdle)(e));
    return {
      kind: 'postgres',
      session: clientSession(pool),
      close: () => pool.end(),
    };
  }
  let dataDir: string | undefined;
  if (!options.inMemory) {
    dataDir = join(options.DATA_DIR, 'pgdata');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  }
  const pglite = new PGlite(dataDir);
  await pglite.waitReady;
  return {
    kind: 'pglite',
    session: pgliteSession(pglite, pglite),
    close: () => pglite.close(),
  };
}
