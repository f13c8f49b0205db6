import { Module, type DynamicModule } from '@nestjs/common';
import type { Environment } from './config/environment';
import type { Database } from './database/connection';
import { DatabaseModule } from './database/database.module';
import { HealthController } from './health/health.controller';

export const ENVIRONMENT = Symbol('ENVIRONMENT');

/** The relay service. Plugins are registered in one list here as they arrive. */
@Module({})
export class AppModule {
  static register(env: Environment, db: Database): DynamicModule {
    return {
      module: AppModule,
      imports: [DatabaseModule.forRoot(db)],
      controllers: [HealthController],
      providers: [{ provide: ENVIRONMENT, useValue: env }],
    };
  }
}
