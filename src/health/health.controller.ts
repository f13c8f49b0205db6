import { Controller, Get, HttpException, Inject } from '@nestjs/common';
import type { Environment } from '../config/environment';
import { ENVIRONMENT } from '../config/tokens';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { pingRedis } from './redis-ping';

/** Liveness and readiness for orchestrators; no authentication, no details beyond up/down. */
@Controller()
export class HealthController {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(ENVIRONMENT) private readonly env: Environment,
  ) {}

  /** The process is up. */
  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** The database and Redis answer; 503 with which one does not. */
  @Get('readyz')
  async readyz(): Promise<{ status: 'ready'; database: 'up'; redis: 'up' }> {
    const [database, redis] = await Promise.all([
      this.db.session.query('SELECT 1').then(
        () => 'up' as const,
        () => 'down' as const,
      ),
      pingRedis(this.env.REDIS_URL).then((ok) => (ok ? ('up' as const) : ('down' as const))),
    ]);
    if (database === 'down' || redis === 'down') {
      throw new HttpException({ status: 'not_ready', database, redis }, 503);
    }
    return { status: 'ready', database, redis };
  }
}
