import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { BearerStrategy } from '../common/auth';
import { TenantsController } from './tenants.controller';
import { TenantsRepository } from './tenants.repository';
import { ApiKeysRepository } from '../common/api-keys.repository';
import { SmtpCredentials } from './smtp-credentials';
import { SmtpCredentialsController } from './smtp-credentials.controller';
import { RecipientPolicyController } from './recipient-policy.controller';
import { TenantChanges } from './tenant-changes';

@Module({
  imports: [PassportModule],
  controllers: [TenantsController, SmtpCredentialsController, RecipientPolicyController],
  providers: [TenantsRepository, ApiKeysRepository, BearerStrategy, SmtpCredentials, TenantChanges],
  exports: [TenantsRepository, SmtpCredentials, TenantChanges],
})
export class TenantsModule {}
