import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { DkimController } from './dkim.controller';
import { DkimKeys } from './dkim-keys';

/** Per-tenant DKIM keys and their API; the relay's worker signs with {@link DkimKeys}. */
@Module({
  imports: [TenantsModule],
  controllers: [DkimController],
  providers: [DkimKeys],
  exports: [DkimKeys],
})
export class DkimModule {}
