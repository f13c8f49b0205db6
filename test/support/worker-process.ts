/**
 * The relay as its own process (`smime-relay serve --role worker|all|…`), sharing a test
 * app's database, Redis and master key, so a test can kill it with SIGKILL mid-batch.
 */
import { LOOPBACK_ALLOWED } from '../helpers/egress';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort } from '../helpers/ports';
import type { TestApp } from './app';
import type { Role } from '../../src/plugin/contract';

const ROOT = resolve(__dirname, '..', '..');

export interface WorkerProcess {
  child: ChildProcess;
  output: string[];
  /** Resolves when the worker serves /healthz. */
  ready: Promise<void>;
  exited: Promise<number | null>;
}

export function spawnWorker(
  app: TestApp,
  env: Record<string, string> = {},
): Promise<WorkerProcess> {
  return spawnRelay(app, 'worker', env);
}

/** `smime-relay serve --role <role>` as a child process on the app's database and Redis. */
export async function spawnRelay(
  app: TestApp,
  role: Role,
  env: Record<string, string> = {},
): Promise<WorkerProcess> {
  const output: string[] = [];
  const httpPort = await freePort();
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'bin/smime-relay.js', 'serve', '--role', role],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: app.databaseUrl,
        REDIS_URL: app.redisUrl,
        QUEUE_PREFIX: app.queuePrefix,
        MASTER_KEY: app.masterKey.toString('base64'),
        ADMIN_TOKEN: 'worker-process-token-0123456789',
        LOG_LEVEL: 'warn',
        HTTP_PORT: String(httpPort),
        ...LOOPBACK_ALLOWED,
        ...env,
      },
    },
  );
  child.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = (async () => {
    const until = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`worker exited early:\n${output.join('')}`);
      try {
        const r = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > until) throw new Error(`worker did not start:\n${output.join('')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return { child, output, ready, exited };
}
