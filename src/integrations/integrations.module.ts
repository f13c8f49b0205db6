/**
 * Platform integrations: the API everywhere, the logins platforms call the relay with, and
 * the platform feedback event sink that reports failed messages back to the platform (run
 * from the events outbox). Global, so platform plugins reach the logins through the
 * contract's token.
 */
import { Logger, Module, type DynamicModule } from '@nestjs/common';
import type { Environment } from '../config/environment';
import { INTEGRATION_LOGINS, type Role } from '../plugin/contract';
import { TenantsModule } from '../tenants/tenants.module';
import { FeedbackSink } from './feedback-sink';
import { IntegrationStore } from './integration-store';
import { IntegrationsController } from './integrations.controller';
import { PlatformHttp } from './platform-http';

@Module({})
export class IntegrationsModule {
  static register(env: Environment, _role: Role): DynamicModule {
    if (env.PLATFORM_ALLOW_PRIVATE) {
      new Logger('Integrations').warn(
        'PLATFORM_ALLOW_PRIVATE is on: platform feedback may reach loopback and private addresses',
      );
    }
    return {
      module: IntegrationsModule,
      global: true,
      imports: [TenantsModule],
      controllers: [IntegrationsController],
      providers: [
        IntegrationStore,
        { provide: INTEGRATION_LOGINS, useExisting: IntegrationStore },
        PlatformHttp,
        FeedbackSink,
      ],
      exports: [INTEGRATION_LOGINS, IntegrationStore, FeedbackSink],
    };
  }
}
