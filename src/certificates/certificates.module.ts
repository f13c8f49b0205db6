import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { CertificateStore } from './certificate-store';
import { CertificatesController } from './certificates.controller';
import { CertificatesRepository } from './certificates.repository';
import { KeyCustody } from '../custody/key-custody';
import { SigningKeys } from './signing-keys';
import { KeysController } from './keys.controller';

@Module({
  imports: [TenantsModule],
  controllers: [CertificatesController, KeysController],
  providers: [CertificatesRepository, CertificateStore, KeyCustody, SigningKeys],
  exports: [CertificateStore, CertificatesRepository, KeyCustody],
})
export class CertificatesModule {}
