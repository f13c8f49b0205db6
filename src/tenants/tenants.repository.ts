/**
 * Every read and write of tenants: the one module with SQL on `tenants` (API keys:
 * src/common/api-keys.repository.ts). Services stay free of SQL.
 */
import { Inject, Injectable, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { isUuid } from '../common/ids';
import type { SigningPolicy } from './tenants.dto';
import type { RecipientRule } from './recipient-policy';
import { TenantChanges } from './tenant-changes';

export interface Tenant {
  id: string;
  name: string;
  signingPolicy: SigningPolicy;
  recipientRules: RecipientRule[];
  createdAt: Date;
  updatedAt: Date;
}

const TENANT = `id, name, signing_policy AS "signingPolicy", recipient_rules AS "recipientRules",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/** SQL fragments for the relay's one-statement reads; `tenant` is an SQL expression. */
export const tenantSql = {
  signingPolicy: (tenant: string): string =>
    `(SELECT t.signing_policy FROM tenants t WHERE t.id = ${tenant})`,
  recipientRules: (tenant: string): string =>
    `(SELECT t.recipient_rules FROM tenants t WHERE t.id = ${tenant})`,
  /** The tenant's id if it exists, else NULL (a reference that must not dangle). */
  existingId: (tenant: string): string => `(SELECT t.id FROM tenants t WHERE t.id = ${tenant})`,
};

@Injectable()
export class TenantsRepository {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Optional() private readonly changes?: TenantChanges,
  ) {}

  async create(name: string, signingPolicy: SigningPolicy): Promise<Tenant> {
    const [row] = await this.db.session.query<Tenant>(
      `INSERT INTO tenants (id, name, signing_policy) VALUES ($1, $2, $3) RETURNING ${TENANT}`,
      [randomUUID(), name, signingPolicy],
    );
    return row;
  }

  list(): Promise<Tenant[]> {
    return this.db.session.query<Tenant>(`SELECT ${TENANT} FROM tenants ORDER BY created_at, id`);
  }

  async find(id: string): Promise<Tenant | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.session.query<Tenant>(
      `SELECT ${TENANT} FROM tenants WHERE id = $1`,
      [id],
    );
    return row;
  }

  /** The names of these tenants by id (unknown ids are left out). */
  async names(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.session.query<{ id: string; name: string }>(
      'SELECT id, name FROM tenants WHERE id = ANY ($1::uuid[])',
      [[...new Set(ids)]],
    );
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  async update(
    id: string,
    changes: { name?: string; signingPolicy?: SigningPolicy },
  ): Promise<Tenant | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.session.query<Tenant>(
      `UPDATE tenants SET name = COALESCE($2, name), signing_policy = COALESCE($3, signing_policy),
         updated_at = now() WHERE id = $1 RETURNING ${TENANT}`,
      [id, changes.name ?? null, changes.signingPolicy ?? null],
    );
    if (row) this.changes?.changed(id);
    return row;
  }

  async remove(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.session.query('DELETE FROM tenants WHERE id = $1 RETURNING id', [
      id,
    ]);
    this.changes?.changed(id);
    return rows.length > 0;
  }

  async recipientRules(id: string): Promise<RecipientRule[]> {
    const [row] = await this.db.session.query<{ rules: RecipientRule[] }>(
      'SELECT recipient_rules AS rules FROM tenants WHERE id = $1',
      [id],
    );
    return row?.rules ?? [];
  }

  async setRecipientRules(id: string, rules: RecipientRule[]): Promise<void> {
    await this.db.session.query(
      'UPDATE tenants SET recipient_rules = $2, updated_at = now() WHERE id = $1',
      [id, JSON.stringify(rules)],
    );
    this.changes?.changed(id);
  }
}
