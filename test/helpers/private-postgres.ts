/**
 * A PostgreSQL server of a test's own (`initdb` and `pg_ctl` from the machine's PostgreSQL
 * installation, on a free loopback port, trust auth), so a test can stop and start it in the
 * middle of a batch without touching the machine's shared server. As root, the server runs
 * as the `postgres` user (initdb refuses root).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './ports';

export interface PrivatePostgres {
  port: number;
  /** The URL of database `name` on this server. */
  url(name?: string): string;
  /** `pg_ctl stop -m immediate`: every backend is killed at once, as in a crash. */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  /** Start it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stop it and delete its data directory. */
  destroy(): Promise<void>;
}

/** The directory of initdb and pg_ctl: PG_BIN, else the newest /usr/lib/postgresql/N/bin. */
export function postgresBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) throw new Error('no initdb under /usr/lib/postgresql; set PG_BIN');
  return join(root, versions[0], 'bin');
}

export async function startPrivatePostgres(databases: string[] = []): Promise<PrivatePostgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'private-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]) => {
    const [cmd, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]]
      : [join(bin, tool), args];
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  };
  const port = await freePort();
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c max_connections=200`;
  const start = async () => {
    run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', 'start']);
  };
  const stop = async (mode: 'immediate' | 'fast' = 'immediate') => {
    run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
  };
  const url = (name = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${name}`;
  await start();
  const admin = new Client({ connectionString: url() });
  await admin.connect();
  for (const name of databases) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    port,
    url,
    stop,
    start,
    async destroy() {
      try {
        await stop('fast');
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
