/**
 * Every read and write of tenant API keys: the one module with SQL on `api_keys`. Only the
 * key's SHA-256 hash is stored; the key itself is shown once, when it is made.
 */
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { isUuid } from './ids';

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  prefix: string;
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

const COLUMNS = `id, tenant_id AS "tenantId", prefix, label, created_at AS "createdAt",
  revoked_at AS "revokedAt"`;

@Injectable()
export class ApiKeysRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async add(tenantId: string, hash: Buffer, prefix: string, label?: string): Promise<ApiKeyRecord> {
    const [row] = await this.db.session.query<ApiKeyRecord>(
      `INSERT INTO api_keys (id, tenant_id, key_hash, prefix, label) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${COLUMNS}`,
      [randomUUID(), tenantId, hash, prefix, label ?? null],
    );
    return row;
  }

  list(tenantId: string): Promise<ApiKeyRecord[]> {
    return this.db.session.query<ApiKeyRecord>(
      `SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at`,
      [tenantId],
    );
  }

  async revoke(tenantId: string, keyId: string): Promise<boolean> {
    if (!isUuid(keyId)) return false;
    const rows = await this.db.session.query(
      `UPDATE api_keys SET revoked_at = now()
        WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL RETURNING id`,
      [keyId, tenantId],
    );
    return rows.length > 0;
  }

  /** The tenant of a key that is not revoked, by the key's hash. */
  async tenantOf(hash: Buffer): Promise<string | undefined> {
    const [row] = await this.db.session.query<{ tenantId: string }>(
      'SELECT tenant_id AS "tenantId" FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    return row?.tenantId;
  }
}
