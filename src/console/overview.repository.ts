/**
 * The operator's dashboard figures, read through the spool and the certificate store:
 * messages per state over every tenant, and certificates that stop working within 30 days.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import type { MessageState } from '../relay/spool';
import { countByState } from '../relay/message-log';
import { CertificatesRepository } from '../certificates/certificates.repository';
import { TenantsRepository } from '../tenants/tenants.repository';

export const EXPIRY_WINDOW_DAYS = 30;

export interface ExpiringCertificate {
  id: string;
  tenantId: string;
  tenantName: string;
  emailAddresses: string[];
  notAfter: string;
}

export interface Overview {
  messages: Record<MessageState, number>;
  expiringCertificates: ExpiringCertificate[];
  expiryWindowDays: number;
}

@Injectable()
export class OverviewRepository {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly certificates: CertificatesRepository,
    private readonly tenants: TenantsRepository,
  ) {}

  async read(now = new Date()): Promise<Overview> {
    const messages = await countByState(this.db.session);
    const until = new Date(now.getTime() + EXPIRY_WINDOW_DAYS * 86_400_000);
    const expiring = await this.certificates.expiringBefore(until, 200);
    const names = await this.tenants.names(expiring.map((c) => c.tenantId));
    return {
      messages,
      expiryWindowDays: EXPIRY_WINDOW_DAYS,
      expiringCertificates: expiring.map((c) => ({
        id: c.id,
        tenantId: c.tenantId,
        tenantName: names.get(c.tenantId) ?? '',
        emailAddresses: c.emailAddresses,
        notAfter: new Date(c.notAfter).toISOString(),
      })),
    };
  }
}
