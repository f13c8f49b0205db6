import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

export async function bootstrap(): Promise<void> {
  const port = Number(process.env.HTTP_PORT ?? 8080);
  const app = await NestFactory.create(AppModule, { logger: ['log', 'warn', 'error'] });
  app.enableShutdownHooks();
  await app.listen(port, process.env.HTTP_HOST ?? '127.0.0.1');
  console.log(`smime-relay listening on http://${process.env.HTTP_HOST ?? '127.0.0.1'}:${port}`);
}

if (require.main === module) {
  bootstrap().catch((e) => {
    console.error(`error [internal_error]: ${(e as Error).message}`);
    process.exit(1);
  });
}
