/**
 * What every HTTP app of the relay gets before it listens (the service and the tests alike):
 * no `X-Powered-By` header naming the framework, and the OpenAPI document.
 */
import type { INestApplication } from '@nestjs/common';
import { setupOpenApi } from './openapi';

export function prepareHttpApp(app: INestApplication): void {
  (app.getHttpAdapter().getInstance() as { disable(setting: string): void }).disable(
    'x-powered-by',
  );
  setupOpenApi(app);
}
