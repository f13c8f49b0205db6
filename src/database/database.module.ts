import {
  Global,
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Database } from './connection';

/** Injection token of the open {@link Database}. */
export const DATABASE = Symbol('DATABASE');

class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}

/** Provides the database opened (and migrated) at start-up; closes it on shutdown. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(db: Database): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [{ provide: DATABASE, useValue: db }, DatabaseCloser],
      exports: [DATABASE],
    };
  }
}
