/**
 * A fresh PostgreSQL database per test file on the machine's server (127.0.0.1:5432, trust
 * auth, user postgres), dropped afterwards. PG_ADMIN_URL overrides the admin connection.
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';

export const PG_ADMIN_URL =
  process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'smime_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new Pool({ connectionString: PG_ADMIN_URL, max: 1 });
  admin.on('error', () => undefined); // the server may drop the idle admin connection
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
