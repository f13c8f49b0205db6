/**
 * Every read and write of stored certificates: the one module with SQL on `certificates`.
 * Rows hold the certificate and chain DER and the sealed private key; nothing here ever
 * sees a plaintext key. Other modules call the methods below, or, for the relay's
 * one-statement hot path, embed the named SQL fragments exported here.
 */
import type { SealedColumn } from '../secrets/rotate-master-key';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { TenantChanges } from '../tenants/tenant-changes';
import type { Database } from '../database/connection';
import type { SqlSession } from '../database/migrator';
import { DATABASE } from '../database/database.module';
import { isUuid } from '../common/ids';
import type { Custody } from '../custody/custody';
import type { LintFinding, LintReport } from './smime-lint';

export interface CertificateRow {
  id: string;
  tenantId: string;
  emailAddresses: string[];
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  fingerprintSha256: string;
  keyAlgorithm: string;
  certificateDer: Buffer;
  /** The chain's DER certificates, concatenated (each is self-delimiting). */
  chainDer: Buffer;
  sealedPrivateKey: Buffer;
  /** Where the private key lives; for pkcs11 and aws-kms, `sealedCustody` says how to reach it. */
  custody: Custody;
  sealedCustody: Buffer | null;
  /** The custody settings without their secrets. */
  custodyRef: Record<string, unknown>;
  /** What the S/MIME Baseline Requirements lint found at upload. */
  lint: StoredLint;
  /** The key made in the relay this certificate was issued for. */
  signingKeyId: string | null;
  status: 'active' | 'removed';
  createdAt: Date;
  removedAt: Date | null;
}

export type NewCertificateRow = Omit<CertificateRow, 'status' | 'createdAt' | 'removedAt'>;

/** The lint report as stored: the profile, and the findings that are not refusals. */
export interface StoredLint {
  profile?: LintReport['profile'];
  findings: LintFinding[];
}

const COLUMNS = `id, tenant_id AS "tenantId", email_addresses AS "emailAddresses", subject, issuer,
  serial_number AS "serialNumber", not_before AS "notBefore", not_after AS "notAfter",
  fingerprint_sha256 AS "fingerprintSha256", key_algorithm AS "keyAlgorithm",
  certificate_der AS "certificateDer", chain_der AS "chainDer",
  sealed_private_key AS "sealedPrivateKey", custody, sealed_custody AS "sealedCustody",
  custody_ref AS "custodyRef", lint, signing_key_id AS "signingKeyId", status,
  created_at AS "createdAt", removed_at AS "removedAt"`;

const bytes = (v: Buffer | Uint8Array): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v));

/** A row as the drivers return it: bytea as Buffer (pg) or Uint8Array (PGlite). */
function rowOf(r: CertificateRow): CertificateRow {
  return {
    ...r,
    certificateDer: bytes(r.certificateDer),
    chainDer: bytes(r.chainDer),
    sealedPrivateKey: bytes(r.sealedPrivateKey),
    sealedCustody: r.sealedCustody === null ? null : bytes(r.sealedCustody),
  };
}

/**
 * SQL fragments for the relay's one-statement reads (intake, delivery). `tenant`, `address`
 * and `at` are SQL expressions of the statement that embeds them.
 */
export const certificateSql = {
  /** The id of the active certificate valid at `at` that covers `address`, expiring last. */
  covering: (tenant: string, address: string, at: string): string =>
    `(SELECT c.id FROM certificates c
       WHERE c.tenant_id = ${tenant} AND c.status = 'active'
         AND c.not_before <= ${at} AND c.not_after >= ${at}
         AND ${address} = ANY (c.email_addresses)
       ORDER BY c.not_after DESC, c.id LIMIT 1)`,
  /** The ids of the certificates issued for a key made in the relay, oldest first. */
  issuedFor: (tenant: string, key: string): string =>
    `(SELECT array_agg(c.id ORDER BY c.created_at) FROM certificates c
       WHERE c.signing_key_id = ${key} AND c.tenant_id = ${tenant})`,
  /** Whether the tenant has an active certificate valid at `at`. */
  anyValid: (tenant: string, at: string): string =>
    `EXISTS (SELECT 1 FROM certificates c
       WHERE c.tenant_id = ${tenant} AND c.status = 'active'
         AND c.not_before <= ${at} AND c.not_after >= ${at})`,
};

/** Certificates' private keys, for master key rotation. */
export const CERTIFICATE_KEYS: SealedColumn = {
  what: 'certificate keys',
  select:
    'SELECT tenant_id, id AS key, sealed_private_key AS sealed FROM certificates WHERE length(sealed_private_key) > 0',
  update:
    'UPDATE certificates SET sealed_private_key = $1 WHERE id = $2 AND sealed_private_key = $3',
  owner: (row) => ({ tenantId: row.tenant_id, certificateId: row.key }),
};

/** How to reach a key in an HSM or KMS (PIN, credentials), for master key rotation. */
export const CERTIFICATE_CUSTODY: SealedColumn = {
  what: 'certificate key custody settings',
  select:
    'SELECT tenant_id, id AS key, sealed_custody AS sealed FROM certificates WHERE length(sealed_custody) > 0',
  update: 'UPDATE certificates SET sealed_custody = $1 WHERE id = $2 AND sealed_custody = $3',
  owner: (row) => ({ tenantId: row.tenant_id, certificateId: custodyOwner(row.key) }),
};

/** The sealing owner of a certificate's custody settings (not its key's). */
export const custodyOwner = (certificateId: string): string => `custody/${certificateId}`;

/** An active certificate's addresses and expiry, for readiness and transit checks. */
export interface ActiveCertificate {
  id: string;
  tenantId: string;
  emailAddresses: string[];
  fingerprintSha256: string;
  notAfter: Date;
}

const ACTIVE = `id, tenant_id AS "tenantId", email_addresses AS "emailAddresses",
  fingerprint_sha256 AS "fingerprintSha256", not_after AS "notAfter"`;

/** The tenant's active certificates (any validity), latest expiry first. */
export function activeCertificatesOf(
  session: SqlSession,
  tenantId: string,
): Promise<ActiveCertificate[]> {
  return session.query<ActiveCertificate>(
    `SELECT ${ACTIVE} FROM certificates WHERE tenant_id = $1 AND status = 'active'
      ORDER BY not_after DESC, id`,
    [tenantId],
  );
}

/** Active certificates that expire by `until`, soonest first (expiry scan, overview). */
export function expiringCertificates(
  session: SqlSession,
  until: Date,
  limit = 100_000,
): Promise<ActiveCertificate[]> {
  return session.query<ActiveCertificate>(
    `SELECT ${ACTIVE} FROM certificates WHERE status = 'active' AND not_after <= $1
      ORDER BY not_after, id LIMIT $2`,
    [until, limit],
  );
}

@Injectable()
export class CertificatesRepository {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Optional() private readonly changes?: TenantChanges,
  ) {}

  async insert(row: NewCertificateRow): Promise<CertificateRow> {
    const [stored] = await this.db.session.query<CertificateRow>(
      `INSERT INTO certificates (id, tenant_id, email_addresses, subject, issuer, serial_number,
         not_before, not_after, fingerprint_sha256, key_algorithm, certificate_der, chain_der,
         sealed_private_key, custody, sealed_custody, custody_ref, lint, signing_key_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
       RETURNING ${COLUMNS}`,
      [
        row.id,
        row.tenantId,
        row.emailAddresses,
        row.subject,
        row.issuer,
        row.serialNumber,
        row.notBefore,
        row.notAfter,
        row.fingerprintSha256,
        row.keyAlgorithm,
        row.certificateDer,
        row.chainDer,
        row.sealedPrivateKey,
        row.custody,
        row.sealedCustody,
        JSON.stringify(row.custodyRef),
        JSON.stringify(row.lint),
        row.signingKeyId,
      ],
    );
    this.changes?.changed(row.tenantId);
    return rowOf(stored);
  }

  async findByFingerprint(
    tenantId: string,
    fingerprint: string,
  ): Promise<CertificateRow | undefined> {
    const [row] = await this.db.session.query<CertificateRow>(
      `SELECT ${COLUMNS} FROM certificates WHERE tenant_id = $1 AND fingerprint_sha256 = $2`,
      [tenantId, fingerprint],
    );
    return row && rowOf(row);
  }

  /** Put a removed certificate back in use with a freshly sealed key (or custody). */
  async reactivate(
    id: string,
    r: Pick<
      NewCertificateRow,
      'sealedPrivateKey' | 'custody' | 'sealedCustody' | 'custodyRef' | 'lint' | 'signingKeyId'
    >,
  ): Promise<CertificateRow> {
    const [row] = await this.db.session.query<CertificateRow>(
      `UPDATE certificates SET status = 'active', removed_at = NULL, sealed_private_key = $2,
         custody = $3, sealed_custody = $4, custody_ref = $5, lint = $6, signing_key_id = $7
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [
        id,
        r.sealedPrivateKey,
        r.custody,
        r.sealedCustody,
        JSON.stringify(r.custodyRef),
        JSON.stringify(r.lint),
        r.signingKeyId,
      ],
    );
    const reactivated = rowOf(row);
    this.changes?.changed(reactivated.tenantId);
    return reactivated;
  }

  async list(tenantId: string): Promise<CertificateRow[]> {
    const rows = await this.db.session.query<CertificateRow>(
      `SELECT ${COLUMNS} FROM certificates WHERE tenant_id = $1 ORDER BY created_at DESC`,
      [tenantId],
    );
    return rows.map(rowOf);
  }

  async find(tenantId: string, id: string): Promise<CertificateRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.session.query<CertificateRow>(
      `SELECT ${COLUMNS} FROM certificates WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return row && rowOf(row);
  }

  /** Takes a certificate out of use; the row stays for the record, its key is erased. */
  async remove(tenantId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.session.query(
      `UPDATE certificates SET status = 'removed', removed_at = now(), sealed_private_key = ''::bytea,
         sealed_custody = NULL
        WHERE tenant_id = $1 AND id = $2 AND status = 'active' RETURNING id`,
      [tenantId, id],
    );
    this.changes?.changed(tenantId);
    return rows.length > 0;
  }

  /** The active certificate valid at `now` that covers `address` and expires last. */
  async forAddress(
    tenantId: string,
    address: string,
    now: Date,
  ): Promise<CertificateRow | undefined> {
    const [row] = await this.db.session.query<CertificateRow>(
      `SELECT ${COLUMNS} FROM certificates
        WHERE tenant_id = $1 AND status = 'active' AND not_before <= $3 AND not_after >= $3
          AND $2 = ANY (email_addresses)
        ORDER BY not_after DESC LIMIT 1`,
      [tenantId, address.toLowerCase(), now],
    );
    return row && rowOf(row);
  }

  /** Active certificates that expire by `until`, soonest first (expiry scan, overview). */
  expiringBefore(until: Date, limit?: number): Promise<ActiveCertificate[]> {
    return expiringCertificates(this.db.session, until, limit);
  }
}
