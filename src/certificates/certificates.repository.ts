/**
 * Every read and write of stored certificates. Rows hold the certificate and chain DER and
 * the sealed private key; nothing here ever sees a plaintext key.
 */
import type { SealedColumn } from '../secrets/rotate-master-key';
import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, lte, gte, sql } from 'drizzle-orm';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { isUuid } from '../common/ids';
import { certificates } from '../database/schema';

export type CertificateRow = typeof certificates.$inferSelect;
export type NewCertificateRow = typeof certificates.$inferInsert;

/** Certificates' private keys, for master key rotation. */
export const CERTIFICATE_KEYS: SealedColumn = {
  what: 'certificate keys',
  select:
    'SELECT tenant_id, id AS key, sealed_private_key AS sealed FROM certificates WHERE length(sealed_private_key) > 0',
  update:
    'UPDATE certificates SET sealed_private_key = $1 WHERE id = $2 AND sealed_private_key = $3',
  owner: (row) => ({ tenantId: row.tenant_id, certificateId: row.key }),
};

@Injectable()
export class CertificatesRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async insert(row: NewCertificateRow): Promise<CertificateRow> {
    const [stored] = await this.db.orm.insert(certificates).values(row).returning();
    return stored;
  }

  async findByFingerprint(
    tenantId: string,
    fingerprint: string,
  ): Promise<CertificateRow | undefined> {
    const [row] = await this.db.orm
      .select()
      .from(certificates)
      .where(
        and(eq(certificates.tenantId, tenantId), eq(certificates.fingerprintSha256, fingerprint)),
      );
    return row;
  }

  /** Put a removed certificate back in use with a freshly sealed key. */
  async reactivate(id: string, sealedPrivateKey: Buffer): Promise<CertificateRow> {
    const [row] = await this.db.orm
      .update(certificates)
      .set({ status: 'active', removedAt: null, sealedPrivateKey })
      .where(eq(certificates.id, id))
      .returning();
    return row;
  }

  list(tenantId: string): Promise<CertificateRow[]> {
    return this.db.orm
      .select()
      .from(certificates)
      .where(eq(certificates.tenantId, tenantId))
      .orderBy(desc(certificates.createdAt));
  }

  async find(tenantId: string, id: string): Promise<CertificateRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.orm
      .select()
      .from(certificates)
      .where(and(eq(certificates.tenantId, tenantId), eq(certificates.id, id)));
    return row;
  }

  /** Takes a certificate out of use; the row stays for the record, its key is erased. */
  async remove(tenantId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.orm
      .update(certificates)
      .set({ status: 'removed', removedAt: new Date(), sealedPrivateKey: Buffer.alloc(0) })
      .where(
        and(
          eq(certificates.tenantId, tenantId),
          eq(certificates.id, id),
          eq(certificates.status, 'active'),
        ),
      )
      .returning();
    return rows.length > 0;
  }

  /** The active certificate valid at `now` that covers `address` and expires last. */
  async forAddress(
    tenantId: string,
    address: string,
    now: Date,
  ): Promise<CertificateRow | undefined> {
    const [row] = await this.db.orm
      .select()
      .from(certificates)
      .where(
        and(
          eq(certificates.tenantId, tenantId),
          eq(certificates.status, 'active'),
          lte(certificates.notBefore, now),
          gte(certificates.notAfter, now),
          sql`${address.toLowerCase()} = ANY(${certificates.emailAddresses})`,
        ),
      )
      .orderBy(desc(certificates.notAfter))
      .limit(1);
    return row;
  }
}
