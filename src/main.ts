import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { ConfigError, loadEnvironment } from './config/environment';

export async function bootstrap(): Promise<void> {
  const env = loadEnvironment();
  const app = await NestFactory.create(AppModule, { logger: ['log', 'warn', 'error'] });
  app.enableShutdownHooks();
  await app.listen(env.HTTP_PORT, env.HTTP_HOST);
  console.log(`smime-relay listening on http://${env.HTTP_HOST}:${env.HTTP_PORT}`);
}

if (require.main === module) {
  bootstrap().catch((e) => {
    const code = e instanceof ConfigError ? 'config' : 'internal_error';
    console.error(`error [${code}]: ${(e as Error).message}`);
    process.exit(1);
  });
}
