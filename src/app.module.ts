import { Module, ValidationPipe, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ErrorFilter } from './common/error.filter';
import type { Environment } from './config/environment';
import { ENVIRONMENT, MASTER_KEYS } from './config/tokens';
import type { Database } from './database/connection';
import { DatabaseModule } from './database/database.module';
import { HealthController } from './health/health.controller';
import { TenantsModule } from './tenants/tenants.module';
import { CertificatesModule } from './certificates/certificates.module';
import type { MasterKeyRing } from './certificates/key-vault';

/** The relay service. Plugins are registered in one list here as they arrive. */
@Module({})
export class AppModule {
  static register(env: Environment, db: Database, keys: MasterKeyRing): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [DatabaseModule.forRoot(db), TenantsModule, CertificatesModule],
      controllers: [HealthController],
      providers: [
        { provide: ENVIRONMENT, useValue: env },
        { provide: MASTER_KEYS, useValue: keys },
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
      exports: [ENVIRONMENT, MASTER_KEYS],
    };
  }
}
