/**
 * Every read and write of tenants and their API keys. Services stay free of SQL.
 */
import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { isUuid } from '../common/ids';
import { apiKeys, tenants } from '../database/schema';
import type { SigningPolicy } from './tenants.dto';
import type { RecipientRule } from './recipient-policy';

export interface Tenant {
  id: string;
  name: string;
  signingPolicy: SigningPolicy;
  recipientRules: RecipientRule[];
  createdAt: Date;
  updatedAt: Date;
}

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  prefix: string;
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

function withoutHash(row: ApiKeyRecord & { keyHash?: Buffer }): ApiKeyRecord {
  const { id, tenantId, prefix, label, createdAt, revokedAt } = row;
  return { id, tenantId, prefix, label, createdAt, revokedAt };
}

@Injectable()
export class TenantsRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async create(name: string, signingPolicy: SigningPolicy): Promise<Tenant> {
    const [row] = await this.db.orm
      .insert(tenants)
      .values({ id: randomUUID(), name, signingPolicy })
      .returning();
    return row;
  }

  list(): Promise<Tenant[]> {
    return this.db.orm.select().from(tenants).orderBy(asc(tenants.createdAt), asc(tenants.id));
  }

  async find(id: string): Promise<Tenant | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.orm.select().from(tenants).where(eq(tenants.id, id));
    return row;
  }

  async update(
    id: string,
    changes: { name?: string; signingPolicy?: SigningPolicy },
  ): Promise<Tenant | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.orm
      .update(tenants)
      .set({ ...changes, updatedAt: new Date() })
      .where(eq(tenants.id, id))
      .returning();
    return row;
  }

  async remove(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.orm.delete(tenants).where(eq(tenants.id, id)).returning();
    return rows.length > 0;
  }

  async addApiKey(
    tenantId: string,
    hash: Buffer,
    prefix: string,
    label?: string,
  ): Promise<ApiKeyRecord> {
    const [row] = await this.db.orm
      .insert(apiKeys)
      .values({ id: randomUUID(), tenantId, keyHash: hash, prefix, label: label ?? null })
      .returning();
    return withoutHash(row);
  }

  listApiKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    return this.db.orm
      .select({
        id: apiKeys.id,
        tenantId: apiKeys.tenantId,
        prefix: apiKeys.prefix,
        label: apiKeys.label,
        createdAt: apiKeys.createdAt,
        revokedAt: apiKeys.revokedAt,
      })
      .from(apiKeys)
      .where(eq(apiKeys.tenantId, tenantId))
      .orderBy(asc(apiKeys.createdAt));
  }

  async revokeApiKey(tenantId: string, keyId: string): Promise<boolean> {
    if (!isUuid(keyId)) return false;
    const rows = await this.db.orm
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, keyId), eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt)))
      .returning();
    return rows.length > 0;
  }

  async recipientRules(id: string): Promise<RecipientRule[]> {
    const [row] = await this.db.orm
      .select({ rules: tenants.recipientRules })
      .from(tenants)
      .where(eq(tenants.id, id));
    return row?.rules ?? [];
  }

  async setRecipientRules(id: string, rules: RecipientRule[]): Promise<void> {
    await this.db.orm
      .update(tenants)
      .set({ recipientRules: rules, updatedAt: new Date() })
      .where(eq(tenants.id, id));
  }
}
