import { Module } from '@nestjs/common';
import { HealthController } from './health/health.controller';

/** The relay service. Plugins are registered in one list here as they arrive. */
@Module({
  controllers: [HealthController],
})
export class AppModule {}
