/**
 * Platform integrations: the API everywhere, the logins platforms call the relay with,
 * and where the role includes `worker` the feedback worker that reports failed messages
 * back to the platform. Global, so platform plugins reach the logins through the
 * contract's token.
 */
import { BullModule } from '@nestjs/bullmq';
import { Logger, Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { Environment } from '../config/environment';
import { INTEGRATION_LOGINS, runs, type Role } from '../plugin/contract';
import { redisConnection } from '../relay/redis-connection';
import { TenantsModule } from '../tenants/tenants.module';
import { FEEDBACK_QUEUE } from './feedback-queue';
import { configuredFeedbackProcessor } from './feedback.processor';
import { IntegrationStore } from './integration-store';
import { IntegrationsController } from './integrations.controller';
import { PlatformHttp } from './platform-http';

@Module({})
export class IntegrationsModule {
  static register(env: Environment, role: Role): DynamicModule {
    if (env.PLATFORM_ALLOW_PRIVATE) {
      new Logger('Integrations').warn(
        'PLATFORM_ALLOW_PRIVATE is on: platform feedback may reach loopback and private addresses',
      );
    }
    const queue = BullModule.registerQueue({
      name: FEEDBACK_QUEUE,
      connection: redisConnection(env, false),
      prefix: env.QUEUE_PREFIX,
    });
    const worker: Provider[] = runs(role, 'worker')
      ? [
          configuredFeedbackProcessor(
            { connection: redisConnection(env, true), prefix: env.QUEUE_PREFIX, concurrency: 8 },
            env.FEEDBACK_RETRY_INITIAL_SECONDS * 1000,
          ),
        ]
      : [];
    return {
      module: IntegrationsModule,
      global: true,
      imports: [queue, TenantsModule],
      controllers: [IntegrationsController],
      providers: [
        IntegrationStore,
        { provide: INTEGRATION_LOGINS, useExisting: IntegrationStore },
        PlatformHttp,
        ...worker,
      ],
      exports: [queue, INTEGRATION_LOGINS, IntegrationStore],
    };
  }
}
