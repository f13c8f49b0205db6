/**
 * Webhooks: the subscription API everywhere; the dispatcher, the delivery worker and the
 * certificate expiry scan where the role includes `worker`.
 */
import { BullModule } from '@nestjs/bullmq';
import { Logger, Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { Environment } from '../config/environment';
import { TenantsModule } from '../tenants/tenants.module';
import { runs, type Role } from '../plugin/contract';
import { redisConnection } from '../relay/redis-connection';
import { Subscriptions } from './subscriptions';
import { WebhooksController } from './webhooks.controller';
import { WEBHOOK_QUEUE } from './webhook-queue';
import { Dispatcher } from './dispatcher';
import { ExpiryScan } from './expiry-scan';
import { configuredWebhookProcessor } from './webhook.processor';

@Module({})
export class WebhooksModule {
  static register(env: Environment, role: Role): DynamicModule {
    if (env.WEBHOOK_ALLOW_PRIVATE) {
      new Logger('Webhooks').warn(
        'WEBHOOK_ALLOW_PRIVATE is on: webhooks may reach loopback and private addresses',
      );
    }
    const worker: Provider[] = runs(role, 'worker')
      ? [
          Dispatcher,
          ExpiryScan,
          configuredWebhookProcessor(
            {
              connection: redisConnection(env, true),
              prefix: env.QUEUE_PREFIX,
              concurrency: 16,
            },
            env.WEBHOOK_RETRY_INITIAL_SECONDS * 1000,
          ),
        ]
      : [];
    return {
      module: WebhooksModule,
      imports: [
        BullModule.registerQueue({
          name: WEBHOOK_QUEUE,
          connection: redisConnection(env, false),
          prefix: env.QUEUE_PREFIX,
        }),
        TenantsModule,
      ],
      controllers: [WebhooksController],
      providers: [Subscriptions, ...worker],
      exports: [Subscriptions],
    };
  }
}
