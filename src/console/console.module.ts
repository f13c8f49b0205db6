/**
 * The admin console at /console, and the two small routes it needs (/v1/about,
 * /v1/overview). Everything else it does goes through the admin API.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { CertificatesModule } from '../certificates/certificates.module';
import { AboutController, SMTP_ENDPOINT } from './about.controller';
import { ConsoleController } from './console.controller';
import { OverviewRepository } from './overview.repository';
import { smtpEndpoint } from './console-facts';
import { ENVIRONMENT } from '../config/tokens';
import type { Environment } from '../config/environment';

@Module({})
export class ConsoleModule {
  static register(processEnv: Record<string, string | undefined> = process.env): DynamicModule {
    return {
      module: ConsoleModule,
      imports: [TenantsModule, CertificatesModule],
      controllers: [ConsoleController, AboutController],
      providers: [
        OverviewRepository,
        {
          provide: SMTP_ENDPOINT,
          inject: [ENVIRONMENT],
          useFactory: (env: Environment) => smtpEndpoint(env, processEnv),
        },
      ],
    };
  }
}
