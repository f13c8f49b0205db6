/**
 * The relay: Intake and the spool in every role; the BullMQ worker and recovery where the
 * role includes `worker`. Global, so plugins reach Intake, the transport registry and the
 * SMTP credentials through the contract's tokens without importing the core.
 */
import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { Environment } from '../config/environment';
import { CertificatesModule } from '../certificates/certificates.module';
import { TenantsModule } from '../tenants/tenants.module';
import { DkimModule } from '../dkim/dkim.module';
import { SmtpCredentials } from '../tenants/smtp-credentials';
import {
  INTAKE,
  PlatformRegistry,
  SUBMISSION_CREDENTIALS,
  TransportRegistry,
  runs,
  type Role,
} from '../plugin/contract';
import { Spool } from './spool';
import { cappedBackoff, RELAY_QUEUE, RelayQueue } from './relay-queue';
import { Intake } from './intake';
import { RefusalLog } from './refusal-log';
import { MessageStatsReader } from './message-stats';
import { ActivityController, TenantActivityController } from './activity.controller';
import { DeliverySettings } from './delivery-settings';
import { DeliverySettingsController } from './delivery-settings.controller';
import { MessageLog } from './message-log';
import { MessagesController } from './messages.controller';
import { SigningIdentities } from './signing-identities';
import { SignAndDeliver } from './sign-and-deliver';
import { configuredProcessor } from './delivery.processor';
import { Recovery } from './recovery';
import { redisConnection } from '../queue/redis-connection';
import { RecentBodies } from './recent-bodies';
import { UnsubscribeModule } from '../unsubscribe/unsubscribe.module';

@Module({})
export class RelayModule {
  static register(env: Environment, role: Role): DynamicModule {
    const worker: Provider[] = runs(role, 'worker')
      ? [
          SigningIdentities,
          SignAndDeliver,
          Recovery,
          configuredProcessor({
            connection: redisConnection(env, true),
            prefix: env.QUEUE_PREFIX,
            concurrency: env.WORKER_CONCURRENCY,
            // A crashed worker's jobs run again within the lock plus one stalled check.
            lockDuration: env.WORKER_LOCK_SECONDS * 1000,
            stalledInterval: Math.max(1000, env.WORKER_LOCK_SECONDS * 500),
            maxStalledCount: 10,
            settings: { backoffStrategy: cappedBackoff },
          }),
        ]
      : [];
    return {
      module: RelayModule,
      global: true,
      imports: [
        BullModule.forRoot({ connection: redisConnection(env, true), prefix: env.QUEUE_PREFIX }),
        BullModule.registerQueue({
          name: RELAY_QUEUE,
          connection: redisConnection(env, false),
          prefix: env.QUEUE_PREFIX,
        }),
        TenantsModule,
        CertificatesModule,
        DkimModule,
        UnsubscribeModule,
      ],
      controllers: [
        DeliverySettingsController,
        MessagesController,
        TenantActivityController,
        ActivityController,
      ],
      providers: [
        TransportRegistry,
        PlatformRegistry,
        Spool,
        RelayQueue,
        Intake,
        RefusalLog,
        MessageStatsReader,
        { provide: INTAKE, useExisting: Intake },
        { provide: SUBMISSION_CREDENTIALS, useExisting: SmtpCredentials },
        DeliverySettings,
        MessageLog,
        // Only a process that also runs the worker keeps bodies for it.
        { provide: RecentBodies, useValue: new RecentBodies(runs(role, 'worker') ? undefined : 0) },
        ...worker,
      ],
      exports: [
        INTAKE,
        SUBMISSION_CREDENTIALS,
        TransportRegistry,
        PlatformRegistry,
        Spool,
        RelayQueue,
        RefusalLog,
      ],
    };
  }
}
