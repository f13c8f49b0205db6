import { HISTORY_TABLES } from './database/history';
import { HISTORY } from './history-tables';
import {
  Inject,
  Module,
  ValidationPipe,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { INBOUND_ROUTES, inboundJsonBody, jsonBody, rawMessageBody } from './common/raw-body';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ErrorFilter } from './common/error.filter';
import type { Environment } from './config/environment';
import { ENVIRONMENT, MASTER_KEYS } from './config/tokens';
import type { Database } from './database/connection';
import { DatabaseModule } from './database/database.module';
import { HealthController } from './health/health.controller';
import { Metrics, MetricsController } from './health/metrics';
import { TenantsModule } from './tenants/tenants.module';
import { CertificatesModule } from './certificates/certificates.module';
import { SigningController } from './signing/signing.controller';
import type { MasterKeyRing } from './secrets/key-vault';
import { RelayModule } from './relay/relay.module';
import { EventsModule } from './events/events.module';
import { DkimModule } from './dkim/dkim.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { IntegrationsModule } from './integrations/integrations.module';
import { InboundLogin } from './integrations/inbound-login';
import { DomainsModule } from './domains/domains.module';
import { ConsoleModule } from './console/console.module';
import { TransitModule } from './transit/transit.module';
import type { PluginContext, Role } from './plugin/contract';
import { EgressPolicy } from './egress/egress-policy';
import { SmtpPlugin } from '../plugins/smtp/smtp.module';
import { MailgunPlugin } from '../plugins/mailgun/mailgun.module';
import { SparkPostPlugin } from '../plugins/sparkpost/sparkpost.module';
import { SendgridPlugin } from '../plugins/sendgrid/sendgrid.module';
import { PostmarkPlugin } from '../plugins/postmark/postmark.module';
import { SesPlugin } from '../plugins/ses/ses.module';
import { ListmonkPlugin } from '../plugins/listmonk/listmonk.module';
import { MauticPlugin } from '../plugins/mautic/mautic.module';

/** Every plugin, in one list. */
const PLUGINS = [
  SmtpPlugin,
  SesPlugin,
  MailgunPlugin,
  SparkPostPlugin,
  SendgridPlugin,
  PostmarkPlugin,
  ListmonkPlugin,
  MauticPlugin,
];

/** The relay service. Plugins are registered in one list here as they arrive. */
@Module({})
export class AppModule implements NestModule {
  constructor(@Inject(ENVIRONMENT) private readonly env: Environment) {}

  /** JSON bodies, and raw messages (message/rfc822) as a Buffer, with the API's own errors. */
  configure(consumer: MiddlewareConsumer): void {
    // Inbound platform routes: the login is checked before the (larger) body is read; a body
    // parsed there is left alone by the general parsers.
    consumer
      .apply(InboundLogin, inboundJsonBody(this.env.MAX_MESSAGE_BYTES))
      .forRoutes(INBOUND_ROUTES);
    consumer.apply(jsonBody, rawMessageBody(this.env.MAX_MESSAGE_BYTES)).forRoutes('*');
  }

  static register(
    env: Environment,
    db: Database,
    keys: MasterKeyRing,
    options: { role?: Role; processEnv?: Record<string, string | undefined> } = {},
  ): DynamicModule {
    const egress = new EgressPolicy(env);
    const metrics = new Metrics();
    const context: PluginContext = {
      role: options.role ?? 'all',
      egress,
      metrics,
      env: options.processEnv ?? process.env,
      maxMessageBytes: env.MAX_MESSAGE_BYTES,
    };
    return {
      module: AppModule,
      global: true,
      imports: [
        DatabaseModule.forRoot(db),
        TenantsModule,
        CertificatesModule,
        DkimModule,
        EventsModule.register(context.role),
        RelayModule.register(env, context.role),
        IntegrationsModule.register(env, context.role),
        WebhooksModule.register(env, context.role),
        DomainsModule.register(context.env),
        ConsoleModule.register(context.env),
        TransitModule.register(context.role),
        ...PLUGINS.map((p) => p.register(context)),
      ],
      controllers: [HealthController, MetricsController, SigningController],
      providers: [
        { provide: Metrics, useValue: metrics },
        { provide: ENVIRONMENT, useValue: env },
        { provide: EgressPolicy, useValue: egress },
        { provide: MASTER_KEYS, useValue: keys },
        { provide: HISTORY_TABLES, useValue: HISTORY },
        { provide: APP_FILTER, useClass: ErrorFilter },
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({
            whitelist: true,
            forbidNonWhitelisted: true,
            transform: true,
          }),
        },
      ],
      exports: [ENVIRONMENT, MASTER_KEYS, HISTORY_TABLES, Metrics, EgressPolicy],
    };
  }
}
