/**
 * Webhooks: the subscription API everywhere, the webhook event sink, and where the role
 * includes `worker` the certificate expiry scan. Deliveries run from the events outbox.
 */
import { Logger, Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { Environment } from '../config/environment';
import { TenantsModule } from '../tenants/tenants.module';
import { runs, type Role } from '../plugin/contract';
import { Subscriptions } from './subscriptions';
import { WebhooksController } from './webhooks.controller';
import { ExpiryScan } from './expiry-scan';
import { WebhookSink } from './webhook-sink';

@Module({})
export class WebhooksModule {
  static register(env: Environment, role: Role): DynamicModule {
    if (env.WEBHOOK_ALLOW_PRIVATE) {
      new Logger('Webhooks').warn(
        'WEBHOOK_ALLOW_PRIVATE is on: webhooks may reach loopback and private addresses',
      );
    }
    const worker: Provider[] = runs(role, 'worker') ? [ExpiryScan] : [];
    return {
      module: WebhooksModule,
      imports: [TenantsModule],
      controllers: [WebhooksController],
      providers: [Subscriptions, WebhookSink, ...worker],
      exports: [Subscriptions],
    };
  }
}
