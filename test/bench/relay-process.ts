/**
 * The relay under test as its own process (`smime-relay serve`), so that its event loop is
 * not shared with the bench's SMTP clients and sink. It gets a fresh PostgreSQL database,
 * its own Redis database and key prefix, free ports and a random master key; stop() ends
 * it (SIGTERM, then SIGKILL) and removes the database and the Redis keys.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { AdminClient } from '../../src/demo/admin-client';
import { freePort } from '../helpers/ports';
import { createTestDatabase } from '../helpers/postgres';
import { testRedis } from '../helpers/redis';

const ROOT = resolve(__dirname, '..', '..');
const PROFILER = resolve(__dirname, 'relay-child-profiler.ts');
/** Lines of the child's output kept for the report. */
const KEEP_LINES = 40;

export interface ApiReply {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export interface RelayProcess {
  pid: number;
  smtpPort: number;
  databaseUrl: string;
  /** A pool on the relay's database (for counts and CPU of its backends). */
  db: Pool;
  /** A client of the relay's Redis database. */
  redis: Redis;
  /** The child's stdout and stderr, last lines. */
  output: string[];
  alive(): boolean;
  /** An admin API call with the operator token. */
  api(method: string, path: string, body?: unknown): Promise<ApiReply>;
  /** Start the child's CPU profiler (only when started with a profile directory). */
  startProfile(): Promise<void>;
  /** Stop it and write the profile to `file`. */
  stopProfile(file: string): Promise<void>;
  stop(): Promise<void>;
}

async function waitForHealth(url: string, child: ChildProcess, output: string[]): Promise<void> {
  const until = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the relay exited during start-up:\n${output.join('')}`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`the relay did not start:\n${output.join('')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** One request/answer over the child's IPC channel (the profiler preload answers). */
function ask(child: ChildProcess, message: object, answer: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${answer}" from the relay`)), 60_000);
    const onMessage = (m: unknown): void => {
      if ((m as { profile?: string }).profile !== answer) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolvePromise();
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

export async function startRelay(o: { profile: boolean }): Promise<RelayProcess> {
  const database = await createTestDatabase('smime_bench');
  const redisDb = await testRedis();
  const [httpPort, smtpPort] = [await freePort(), await freePort()];
  const adminToken = randomBytes(24).toString('hex');
  const url = `http://127.0.0.1:${httpPort}`;
  const admin = new AdminClient(url, adminToken);
  const bin = resolve(ROOT, 'bin', 'smime-relay.js');
  if (existsSync(resolve(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
    process.stderr.write('note: dist/ exists, so the relay runs the built code, not src/\n');
  }
  const nodeArgs = o.profile ? ['-r', '@swc-node/register', '-r', PROFILER] : [];
  const child = spawn(process.execPath, [...nodeArgs, bin, 'serve'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe', ...(o.profile ? ['ipc' as const] : [])],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      REDIS_URL: redisDb.url,
      QUEUE_PREFIX: redisDb.prefix,
      ADMIN_TOKEN: adminToken,
      MASTER_KEY: randomBytes(32).toString('base64'),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtpPort),
      LOG_LEVEL: 'warn',
      SMTP_UPSTREAM_ALLOW: '127.0.0.0/8',
      // The bench's webhook receiver listens on loopback.
      WEBHOOK_ALLOW_PRIVATE: 'true',
    },
  });
  const output: string[] = [];
  const keep = (b: Buffer): void => {
    output.push(b.toString());
    if (output.length > KEEP_LINES) output.splice(0, output.length - KEEP_LINES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const db = new Pool({ connectionString: database.url, max: 2 });
  db.on('error', () => undefined);
  const redis = new Redis(redisDb.url, { maxRetriesPerRequest: 1 });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    redis.disconnect();
    await db.end();
    await database.drop();
    await redisDb.cleanup();
  };
  try {
    await waitForHealth(url, child, output);
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    pid: child.pid!,
    smtpPort,
    databaseUrl: database.url,
    db,
    redis,
    output,
    alive: () => child.exitCode === null && child.signalCode === null,
    async api(method, path, body) {
      const { status, json, text } = await admin.send(method, path, { body });
      return { status, json, text };
    },
    startProfile: () => ask(child, { profile: 'start' }, 'started'),
    stopProfile: (file) => ask(child, { profile: 'stop', file }, 'stopped'),
    stop,
  };
}
