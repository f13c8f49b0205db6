/**
 * The operator's dashboard figures, read straight from the spool and the certificate store:
 * messages per state over every tenant, and certificates that stop working within 30 days.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { MESSAGE_STATES, type MessageState } from '../relay/spool';

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
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async read(now = new Date()): Promise<Overview> {
    const counts = await this.db.session.query<{ state: MessageState; n: string }>(
      'SELECT state, count(*) AS n FROM messages GROUP BY state',
    );
    const messages = Object.fromEntries(MESSAGE_STATES.map((s) => [s, 0])) as Record<
      MessageState,
      number
    >;
    for (const c of counts) messages[c.state] = Number(c.n);
    const until = new Date(now.getTime() + EXPIRY_WINDOW_DAYS * 86_400_000);
    const rows = await this.db.session.query<{
      id: string;
      tenant_id: string;
      tenant_name: string;
      email_addresses: string[];
      not_after: Date;
    }>(
      `SELECT c.id, c.tenant_id, t.name AS tenant_name, c.email_addresses, c.not_after
       FROM certificates c JOIN tenants t ON t.id = c.tenant_id
       WHERE c.status = 'active' AND c.not_after < $1
       ORDER BY c.not_after, c.id LIMIT 200`,
      [until.toISOString()],
    );
    return {
      messages,
      expiryWindowDays: EXPIRY_WINDOW_DAYS,
      expiringCertificates: rows.map((r) => ({
        id: r.id,
        tenantId: r.tenant_id,
        tenantName: r.tenant_name,
        emailAddresses: r.email_addresses,
        notAfter: new Date(r.not_after).toISOString(),
      })),
    };
  }
}
