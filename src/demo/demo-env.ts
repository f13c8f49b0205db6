/**
 * The environment the demo starts the relay with: the caller's, plus a data directory of
 * its own, free loopback ports, a random operator token and its own queue prefix, and
 * without DATABASE_URL so the embedded database is used. Redis is the one thing it needs
 * from outside, so it is checked first and fails fast.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, loadEnvironment, type Environment } from '../config/environment';
import { pingRedis } from '../health/redis-ping';
import { freeLoopbackPorts } from './free-ports';

export const DEMO_QUEUE_PREFIX = '{smime-relay-demo}';

export interface DemoEnvironment {
  processEnv: NodeJS.ProcessEnv;
  env: Environment;
  httpPort: number;
  smtpPort: number;
  adminToken: string;
}

export async function demoEnvironment(
  dataDir: string,
  base: NodeJS.ProcessEnv = process.env,
): Promise<DemoEnvironment> {
  const [httpPort, smtpPort] = await freeLoopbackPorts(2);
  const adminToken = randomBytes(32).toString('base64url');
  const processEnv: NodeJS.ProcessEnv = {
    ...base,
    DATA_DIR: dataDir,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtpPort),
    ADMIN_TOKEN: adminToken,
    QUEUE_PREFIX: DEMO_QUEUE_PREFIX,
    LOG_LEVEL: 'warn',
    // A job taken by another demo sharing the prefix is queued again within seconds.
    RECOVERY_INTERVAL_SECONDS: '5',
    // The demo's upstream is a sink on loopback, which the operator must allow.
    SMTP_UPSTREAM_ALLOW: '127.0.0.1',
  };
  for (const name of ['DATABASE_URL', 'DATABASE_URL_FILE', 'ADMIN_TOKEN_FILE', 'SMTPS_PORT']) {
    delete processEnv[name];
  }
  return { processEnv, env: loadEnvironment(processEnv), httpPort, smtpPort, adminToken };
}

/** The URL without user name and password, to show in a message. */
export function redactedRedisUrl(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

/** Fails within a few seconds, with one clear line, when Redis does not answer. */
export async function requireRedis(env: Environment): Promise<void> {
  if (env.REDIS_SENTINELS) return; // the sentinels, not REDIS_URL, say where Redis is
  if (await pingRedis(env.REDIS_URL, 3000)) return;
  throw new ConfigError(
    `Redis does not answer at ${redactedRedisUrl(env.REDIS_URL)}; the demo needs it. ` +
      'Start Redis (e.g. redis-server) or point REDIS_URL at one',
  );
}
