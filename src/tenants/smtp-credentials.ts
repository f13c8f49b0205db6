/**
 * SMTP submission credentials of a tenant: a generated username and password for the
 * platform's SMTP settings. The password is 256 random bits, shown once; only its SHA-256
 * is stored (a slow password hash buys nothing for a secret of that strength).
 */
import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { isUuid } from '../common/ids';
import type { SubmissionCredentials } from '../plugin/contract';

export interface SmtpCredentialRecord {
  id: string;
  tenantId: string;
  username: string;
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

const hash = (password: string): Buffer => createHash('sha256').update(password, 'utf8').digest();

interface Row {
  id: string;
  tenant_id: string;
  username: string;
  label: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

const record = (r: Row): SmtpCredentialRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  username: r.username,
  label: r.label,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

const COLUMNS = 'id, tenant_id, username, label, created_at, revoked_at';

@Injectable()
export class SmtpCredentials implements SubmissionCredentials {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async create(
    tenantId: string,
    label?: string,
  ): Promise<SmtpCredentialRecord & { password: string }> {
    const username = `srs_${randomBytes(9).toString('base64url')}`;
    const password = randomBytes(32).toString('base64url');
    const [row] = await this.db.session.query<Row>(
      `INSERT INTO smtp_credentials (id, tenant_id, username, password_hash, label)
       VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [randomUUID(), tenantId, username, hash(password), label ?? null],
    );
    return { ...record(row), password };
  }

  async list(tenantId: string): Promise<SmtpCredentialRecord[]> {
    const rows = await this.db.session.query<Row>(
      `SELECT ${COLUMNS} FROM smtp_credentials WHERE tenant_id = $1 ORDER BY created_at, id`,
      [tenantId],
    );
    return rows.map(record);
  }

  async revoke(tenantId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.session.query(
      `UPDATE smtp_credentials SET revoked_at = now()
       WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL RETURNING id`,
      [id, tenantId],
    );
    return rows.length > 0;
  }

  /** The tenant of a username and password, or undefined; constant-time on the hash. */
  async tenantFor(username: string, password: string): Promise<string | undefined> {
    const [row] = await this.db.session.query<{ tenant_id: string; password_hash: Buffer }>(
      `SELECT tenant_id, password_hash FROM smtp_credentials
       WHERE username = $1 AND revoked_at IS NULL`,
      [username],
    );
    if (!row) return undefined;
    const stored = Buffer.from(row.password_hash);
    return timingSafeEqual(stored, hash(password)) ? row.tenant_id : undefined;
  }
}
