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
/** The certificate timeline shows every active certificate, soonest first, up to this many. */
const TIMELINE_MAX = 500;
const FAR_FUTURE = new Date('9999-12-31T00:00:00Z');

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
  /** Active certificates, soonest to stop working first (at most 500). */
  certificateTimeline: ExpiringCertificate[];
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
    const timeline = await this.certificates.expiringBefore(FAR_FUTURE, TIMELINE_MAX);
    const names = await this.tenants.names(timeline.map((c) => c.tenantId));
    const soon = now.getTime() + EXPIRY_WINDOW_DAYS * 86_400_000;
    const shown = timeline.map((c) => ({
      id: c.id,
      tenantId: c.tenantId,
      tenantName: names.get(c.tenantId) ?? '',
      emailAddresses: c.emailAddresses,
      notAfter: new Date(c.notAfter).toISOString(),
    }));
    return {
      messages,
      expiryWindowDays: EXPIRY_WINDOW_DAYS,
      expiringCertificates: shown
        .filter((c) => new Date(c.notAfter).getTime() <= soon)
        .slice(0, 200),
      certificateTimeline: shown,
    };
  }
}
