/**
 * The tables of src/database/migrations, described for Drizzle's query builder. The SQL
 * migrations are the source of truth; this file must follow them.
 */
import { customType, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v)),
});

export const tenants = pgTable('tenants', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  signingPolicy: text('signing_policy', { enum: ['require', 'prefer'] })
    .notNull()
    .default('require'),
  // Per-recipient-domain rules (tenants/recipient-policy.ts): [{signing, domains}].
  recipientRules: jsonb('recipient_rules')
    .$type<{ signing: 'detached' | 'opaque' | 'unsigned'; domains: string[] }[]>()
    .notNull()
    .default([]),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const apiKeys = pgTable('api_keys', {
  id: uuid('id').primaryKey(),
  tenantId: uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' }),
  keyHash: bytea('key_hash').notNull().unique(),
  prefix: text('prefix').notNull(),
  label: text('label'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

export const certificates = pgTable('certificates', {
  id: uuid('id').primaryKey(),
  tenantId: uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' }),
  emailAddresses: text('email_addresses').array().notNull(),
  subject: text('subject').notNull(),
  issuer: text('issuer').notNull(),
  serialNumber: text('serial_number').notNull(),
  notBefore: timestamp('not_before', { withTimezone: true }).notNull(),
  notAfter: timestamp('not_after', { withTimezone: true }).notNull(),
  fingerprintSha256: text('fingerprint_sha256').notNull(),
  keyAlgorithm: text('key_algorithm').notNull(),
  certificateDer: bytea('certificate_der').notNull(),
  /** The chain's DER certificates, concatenated (each is self-delimiting). */
  chainDer: bytea('chain_der').notNull(),
  sealedPrivateKey: bytea('sealed_private_key').notNull(),
  status: text('status', { enum: ['active', 'removed'] })
    .notNull()
    .default('active'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  removedAt: timestamp('removed_at', { withTimezone: true }),
});
