import 'reflect-metadata';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { ConfigError, loadEnvironment } from './config/environment';
import { openDatabase } from './database/connection';
import { migrate } from './database/migrator';
import { resolveMasterKey } from './config/master-key';
import { firstStartNotice, resolveAdminToken } from './config/admin-token';
import { explainStartupError } from './config/startup-errors';
import { watchRedisAtStart } from './queue/redis-wait';
import { MasterKeyRing } from './secrets/key-vault';
import { prepareHttpApp } from './common/http-app';
import type { Role } from './plugin/contract';

const LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;

export interface BootstrapOptions {
  role?: Role;
  /** The environment to read (default process.env). */
  processEnv?: NodeJS.ProcessEnv;
}

/** Start the service; resolves once it listens. */
export async function bootstrap(options: BootstrapOptions = {}): Promise<INestApplication> {
  const processEnv = options.processEnv ?? process.env;
  const role = options.role ?? 'all';
  const env = loadEnvironment(processEnv);
  // Start-up lines are logged before Nest applies LOG_LEVEL; apply it here already.
  Logger.overrideLogger(LEVELS.slice(0, LEVELS.indexOf(env.LOG_LEVEL) + 1));
  const log = new Logger('smime-relay');
  const admin = resolveAdminToken(env);
  env.ADMIN_TOKEN = admin.token;
  if (admin.origin === 'data-dir') log.log(`admin token from ${admin.path} (ADMIN_TOKEN not set)`);
  try {
    const master = resolveMasterKey(env, (m) => log.warn(m));
    log.log(`master key from ${master.origin === 'environment' ? 'MASTER_KEY' : master.path}`);
    const db = await openDatabase(env);
    const applied = await migrate(db.session);
    const where = db.kind === 'postgres' ? 'PostgreSQL' : `embedded database in ${env.DATA_DIR}`;
    log.log(applied.length ? `${where}: applied ${applied.join(', ')}` : `${where}: up to date`);
    const app = await NestFactory.create(
      AppModule.register(env, db, new MasterKeyRing(master.key, master.previous), {
        role,
        processEnv,
      }),
      {
        logger: LEVELS.slice(0, LEVELS.indexOf(env.LOG_LEVEL) + 1),
        bodyParser: false, // src/common/raw-body.ts parses bodies
      },
    );
    prepareHttpApp(app);
    await app.listen(env.HTTP_PORT, env.HTTP_HOST);
    log.log(`role ${role}; HTTP on http://${env.HTTP_HOST}:${env.HTTP_PORT}`);
    // With Sentinel, REDIS_URL holds only the password: the sentinels are asked instead.
    if (!env.REDIS_SENTINELS) {
      const stopWatching = watchRedisAtStart(env.REDIS_URL, log);
      const close = app.close.bind(app);
      app.close = async () => {
        stopWatching();
        await close();
      };
    }
    if (admin.origin === 'generated') {
      const host = env.HTTP_HOST.includes(':') ? `[${env.HTTP_HOST}]` : env.HTTP_HOST;
      process.stdout.write(
        firstStartNotice(admin.path!, `http://${host}:${env.HTTP_PORT}/console`),
      );
    }
    return app;
  } catch (e) {
    throw explainStartupError(e, env, processEnv);
  }
}

/**
 * SIGTERM or SIGINT: stop taking mail, finish what is in flight, close the pools, exit 0.
 * A second signal exits at once (1).
 */
export function exitOnSignals(app: INestApplication): void {
  const log = new Logger('smime-relay');
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      log.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    closing = true;
    log.log(`${signal}: finishing the messages in flight, then exiting`);
    app.close().then(
      () => process.exit(0),
      (e: Error) => {
        log.error(`shutdown failed: ${e.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Run the relay as this process (`node dist/src/main.js`, `npm start`). */
export function runMain(): void {
  bootstrap().then(exitOnSignals, (e) => {
    const code = e instanceof ConfigError ? 'config' : 'internal_error';
    console.error(`error [${code}]: ${(e as Error).message}`);
    process.exit(code === 'config' ? 2 : 1);
  });
}

if (require.main === module) runMain();
