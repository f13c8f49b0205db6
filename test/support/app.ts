/**
 * The HTTP service started in-process on 127.0.0.1 (a free port) against a fresh database
 * on the machine's PostgreSQL, with its log output captured so tests can look for secrets.
 */
import { LOOPBACK_ALLOWED } from '../helpers/egress';
import { ConsoleLogger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { AppModule } from '../../src/app.module';
import { loadEnvironment } from '../../src/config/environment';
import { openDatabase, type Database } from '../../src/database/connection';
import { migrate } from '../../src/database/migrator';
import { createTestDatabase } from '../helpers/postgres';
import { MasterKeyRing } from '../../src/secrets/key-vault';
import { prepareHttpApp } from '../../src/common/http-app';
import { AdminClient } from '../../src/demo/admin-client';
import { randomBytes } from 'node:crypto';
import type { Role } from '../../src/plugin/contract';
import { testRedis } from '../helpers/redis';
import { SmtpLifecycle } from '../../plugins/smtp/smtp.module';

export const ADMIN_TOKEN = 'operator-token-for-tests-0123456789';

class CapturingLogger extends ConsoleLogger {
  constructor(private readonly lines: string[]) {
    super();
  }
  protected override printMessages(messages: unknown[], context?: string): void {
    for (const m of messages) this.lines.push(`${context ?? ''} ${String(m)}`);
  }
}

export interface TestApp {
  url: string;
  /** The master key the app seals with. */
  masterKey: Buffer;
  nest: INestApplication;
  databaseUrl: string;
  /** The SMTP submission port, when the role runs it. */
  smtpPort?: number;
  /** This app's Redis URL and queue prefix. */
  redisUrl: string;
  queuePrefix: string;
  db: Database;
  logs: string[];
  request(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; raw?: string; contentType?: string },
  ): Promise<{ status: number; json: any; text: string }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

export async function startApp(
  env: Record<string, string> = {},
  options: { role?: Role; databaseUrl?: string; masterKey?: Buffer } = {},
): Promise<TestApp> {
  const testDb = options.databaseUrl
    ? { url: options.databaseUrl, drop: async () => undefined }
    : await createTestDatabase();
  // Its own Redis database and key prefix, so parallel test files never share a queue.
  const redis = await testRedis();
  // The SMTP listener picks a free port unless a test asks for one.
  const processEnv = {
    ADMIN_TOKEN,
    // Upstreams and provider stand-ins listen on loopback: the operator allows that here;
    // the egress tests pass '' / 'false' to see the default refusals.
    ...LOOPBACK_ALLOWED,
    DATABASE_URL: testDb.url,
    SMTP_PORT: '0',
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    ...env,
  };
  const config = loadEnvironment(processEnv);
  const db = await openDatabase(config);
  await migrate(db.session);
  const logs: string[] = [];
  const masterKey = options.masterKey ?? randomBytes(32);
  const keys = new MasterKeyRing(masterKey);
  const app = await NestFactory.create(
    AppModule.register(config, db, keys, { role: options.role, processEnv }),
    {
      logger: new CapturingLogger(logs),
      bodyParser: false,
    },
  );
  prepareHttpApp(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  // No token of its own: each call names one (or none, to see the 401).
  const client = new AdminClient(url);
  return {
    url,
    masterKey,
    nest: app,
    db,
    logs,
    async request(method, path, opts = {}) {
      const { status, json, text } = await client.send(method, path, {
        token: opts.token,
        body: opts.body,
        raw: opts.raw,
        headers:
          opts.raw !== undefined && opts.contentType !== undefined
            ? { 'content-type': opts.contentType }
            : {},
      });
      return { status, json, text };
    },
    databaseUrl: testDb.url,
    smtpPort: app.get(SmtpLifecycle).server?.ports.submission,
    redisUrl: processEnv.REDIS_URL,
    queuePrefix: processEnv.QUEUE_PREFIX,
    async close() {
      await app.close();
      await testDb.drop();
      await redis.cleanup();
    },
  };
}
