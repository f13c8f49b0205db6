import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { CertificateStore } from './certificate-store';
import { CertificatesController } from './certificates.controller';
import { CertificatesRepository } from './certificates.repository';

@Module({
  imports: [TenantsModule],
  controllers: [CertificatesController],
  providers: [CertificatesRepository, CertificateStore],
  exports: [CertificateStore, CertificatesRepository],
})
export class CertificatesModule {}
