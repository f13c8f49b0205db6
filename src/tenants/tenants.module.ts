import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { BearerStrategy } from '../common/auth';
import { TenantsController } from './tenants.controller';
import { TenantsRepository } from './tenants.repository';

@Module({
  imports: [PassportModule],
  controllers: [TenantsController],
  providers: [TenantsRepository, BearerStrategy],
  exports: [TenantsRepository],
})
export class TenantsModule {}
