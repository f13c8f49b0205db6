/**
 * A first run as a new user meets it: `smime-relay serve` with no configuration generates
 * an admin token into DATA_DIR and says once how to use it; a port in use, an unreachable
 * PostgreSQL or a missing database end in one line naming the setting, with exit 2 (config).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from './helpers/ports';
import { PG_ADMIN_URL } from './helpers/postgres';
import { testRedis, type TestRedis } from './helpers/redis';

const ROOT = resolve(__dirname, '..');

interface Run {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function serve(env: Record<string, string>): Run {
  const chunks: string[] = [];
  const base = { ...process.env };
  for (const k of ['ADMIN_TOKEN', 'DATABASE_URL', 'MASTER_KEY', 'NODE_ENV']) delete base[k];
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'bin/smime-relay.js', 'serve'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...base, LOG_LEVEL: 'log', ...env } },
  );
  child.stdout!.on('data', (b: Buffer) => chunks.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => chunks.push(b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => chunks.join(''), exited };
}

async function listening(run: Run, port: number): Promise<void> {
  const until = Date.now() + 90_000;
  for (;;) {
    if (run.child.exitCode !== null) throw new Error(`the relay exited:\n${run.out()}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`the relay did not start:\n${run.out()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stop(run: Run): Promise<void> {
  run.child.kill('SIGTERM');
  await run.exited;
}

const tenants = (port: number, token: string) =>
  fetch(`http://127.0.0.1:${port}/v1/tenants`, { headers: { authorization: `Bearer ${token}` } });

let dir: string;
let redis: TestRedis;
const ports = async () => ({
  HTTP_PORT: String(await freePort()),
  SMTP_PORT: String(await freePort()),
});
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smime-first-run-'));
  redis = await testRedis();
});
after(async () => {
  await redis.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('first run', () => {
  test('no ADMIN_TOKEN: one is generated into DATA_DIR, shown once, and kept; ADMIN_TOKEN wins', async () => {
    const dataDir = join(dir, 'data');
    const env = { DATA_DIR: dataDir, REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix };
    const p = await ports();
    const first = serve({ ...env, ...p });
    await listening(first, Number(p.HTTP_PORT));
    const path = join(dataDir, 'admin-token');
    const token = (await readFile(path, 'utf8')).trim();
    assert.equal((await stat(path)).mode & 0o777, 0o600, 'owner-only');
    assert.match(token, /^srat_[A-Za-z0-9_-]{32}$/);
    const shown = first.out();
    assert.ok(shown.includes(`export ADMIN_TOKEN=$(cat ${path})`), shown);
    assert.ok(shown.includes(`console: http://127.0.0.1:${p.HTTP_PORT}/console`), shown);
    assert.ok(!shown.includes(token), 'the token itself is not printed');
    assert.equal((await tenants(Number(p.HTTP_PORT), token)).status, 200);
    await stop(first);

    const p2 = await ports();
    const again = serve({ ...env, ...p2 });
    await listening(again, Number(p2.HTTP_PORT));
    assert.equal((await tenants(Number(p2.HTTP_PORT), token)).status, 200);
    assert.ok(!again.out().includes('export ADMIN_TOKEN'), 'the notice is shown once');
    assert.match(again.out(), /admin token from .*admin-token/);
    await stop(again);

    const p3 = await ports();
    const own = 'my-own-operator-token-0123456789';
    const explicit = serve({ ...env, ...p3, ADMIN_TOKEN: own });
    await listening(explicit, Number(p3.HTTP_PORT));
    assert.equal((await tenants(Number(p3.HTTP_PORT), own)).status, 200);
    assert.equal((await tenants(Number(p3.HTTP_PORT), token)).status, 401);
    await stop(explicit);
  });
});

describe('Redis down at start-up', () => {
  test('the relay says it waits for Redis at REDIS_URL, and /readyz stays 503', async () => {
    const closed = await freePort();
    const p = await ports();
    const run = serve({
      ...p,
      DATA_DIR: join(dir, 'no-redis'),
      ADMIN_TOKEN: 'operator-token-0123456789',
      REDIS_URL: `redis://:secret-pass@127.0.0.1:${closed}`,
    });
    try {
      await listening(run, Number(p.HTTP_PORT));
      const until = Date.now() + 20_000;
      while (!run.out().includes('waiting for Redis') && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.match(
        run.out(),
        new RegExp(
          `waiting for Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${closed} \\(REDIS_URL\\)`,
        ),
      );
      assert.ok(!run.out().includes('secret-pass'), 'the password is not logged');
      assert.equal((await fetch(`http://127.0.0.1:${p.HTTP_PORT}/readyz`)).status, 503);
    } finally {
      await stop(run);
    }
  });
});

describe('start-up failures: one line naming the setting, exit 2', () => {
  let busy: Server;
  let busyPort: number;
  before(async () => {
    busy = createServer();
    busyPort = await freePort();
    await new Promise<void>((r) => busy.listen(busyPort, '127.0.0.1', r));
  });
  after(() => new Promise<void>((r) => busy.close(() => r())));

  const failure = async (env: Record<string, string>) => {
    const run = serve({ ADMIN_TOKEN: 'operator-token-0123456789', REDIS_URL: redis.url, ...env });
    const code = await run.exited;
    const lines = run
      .out()
      .split('\n')
      .filter((l) => l.startsWith('error ['));
    return { code, lines, out: run.out() };
  };

  test('the HTTP port in use', async () => {
    const r = await failure({
      DATA_DIR: join(dir, 'busy'),
      HTTP_PORT: String(busyPort),
      SMTP_PORT: '0',
    });
    assert.equal(r.code, 2, r.out);
    assert.deepEqual(r.lines, [
      `error [config]: port ${busyPort} on 127.0.0.1 is already in use: stop the other process or set HTTP_PORT to a free port`,
    ]);
  });

  test('the SMTP port in use', async () => {
    const http = await freePort();
    const r = await failure({
      DATA_DIR: join(dir, 'busy-smtp'),
      HTTP_PORT: String(http),
      SMTP_PORT: String(busyPort),
    });
    assert.equal(r.code, 2, r.out);
    assert.equal(r.lines.length, 1, r.out);
    assert.match(r.lines[0], new RegExp(`port ${busyPort} .*already in use: .*set SMTP_PORT`));
  });

  test('PostgreSQL unreachable, and a database that does not exist', async () => {
    const closed = await freePort();
    const unreachable = await failure({
      DATA_DIR: join(dir, 'pg'),
      DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/relay`,
      MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    assert.equal(unreachable.code, 2, unreachable.out);
    assert.deepEqual(unreachable.lines, [
      `error [config]: cannot reach PostgreSQL at 127.0.0.1:${closed}/relay (ECONNREFUSED): start it, or fix DATABASE_URL`,
    ]);
    const url = new URL(PG_ADMIN_URL);
    url.pathname = '/no_such_database_for_smime_relay';
    const missing = await failure({
      DATA_DIR: join(dir, 'pg2'),
      DATABASE_URL: url.toString(),
      MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    assert.equal(missing.code, 2, missing.out);
    assert.equal(missing.lines.length, 1, missing.out);
    assert.match(
      missing.lines[0],
      /^error \[config\]: the database no_such_database_for_smime_relay does not exist on .*: create it \(createdb no_such_database_for_smime_relay\) or fix DATABASE_URL$/,
    );
  });
});
