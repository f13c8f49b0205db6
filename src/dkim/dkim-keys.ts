/**
 * Per-tenant DKIM keys (table dkim_keys). The private key is PKCS#8 PEM sealed by the key
 * vault (owner: tenant id and "dkim"); the public half is stored as the DNS record's p= value.
 * The worker reads keys through a per-tenant cache that is valid while updated_at is unchanged.
 */
import type { SealedColumn } from '../secrets/rotate-master-key';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '../database/connection';
import type { SqlSession } from '../database/migrator';
import { DATABASE } from '../database/database.module';
import { MASTER_KEYS } from '../config/tokens';
import { MasterKeyRing, openPrivateKey, sealPrivateKey } from '../secrets/key-vault';
import type { KeyOwner } from '../secrets/key-vault';
import { RelayError } from '../plugin/relay-error';
import { activeCertificatesOf } from '../certificates/certificates.repository';
import { domainOf, domainsAlign, type DkimAlgorithm, type DkimSigningKey } from './dkim-signer';

/** The tenant's DKIM public key and where it is published, for the readiness checks. */
export async function dkimPublicKeyOf(
  session: SqlSession,
  tenantId: string,
): Promise<{ domain: string; selector: string; algorithm: string; publicKey: string } | undefined> {
  const [row] = await session.query<{
    domain: string;
    selector: string;
    algorithm: string;
    publicKey: string;
  }>(
    'SELECT domain, selector, algorithm, public_key AS "publicKey" FROM dkim_keys WHERE tenant_id = $1',
    [tenantId],
  );
  return row;
}

/** SQL for the relay's delivery read: when the tenant's DKIM key last changed (or null). */
export const dkimUpdatedAtSql = (tenant: string): string =>
  `(SELECT k.updated_at FROM dkim_keys k WHERE k.tenant_id = ${tenant})`;

export interface DkimKeyView {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  dnsRecord: { name: string; type: 'TXT'; value: string };
}

export interface DkimKeyRequest {
  domain?: unknown;
  selector?: unknown;
  /** 'rsa' (default) or 'ed25519', for a generated key. */
  keyType?: unknown;
  /** A PEM private key (PKCS#8 or PKCS#1) to import instead of generating one. */
  privateKey?: unknown;
}

interface DkimRow {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  public_key: string;
  sealed_private_key: Buffer;
  updated_at: Date;
}

/** The key vault's owner of a tenant's DKIM key. */
export const dkimKeyOwner = (tenantId: string): KeyOwner => ({ tenantId, certificateId: 'dkim' });

/** DKIM private keys, for master key rotation. */
export const DKIM_KEYS: SealedColumn = {
  what: 'DKIM keys',
  select: 'SELECT tenant_id, tenant_id AS key, sealed_private_key AS sealed FROM dkim_keys',
  update:
    'UPDATE dkim_keys SET sealed_private_key = $1 WHERE tenant_id = $2 AND sealed_private_key = $3',
  owner: (row) => dkimKeyOwner(row.tenant_id),
};
const ownerOf = dkimKeyOwner;

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const SELECTOR = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

const invalid = (message: string) => new RelayError('invalid_request', message);

/** The p= value: SubjectPublicKeyInfo for RSA (RFC 6376), the raw 32 bytes for Ed25519 (RFC 8463). */
function publicKeyValue(privateKey: KeyObject): string {
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return (privateKey.asymmetricKeyType === 'ed25519' ? spki.subarray(-32) : spki).toString(
    'base64',
  );
}

function algorithmOf(key: KeyObject): DkimAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519-sha256';
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw invalid(`the RSA key has ${bits} bits; DKIM keys need at least 2048`);
    return 'rsa-sha256';
  }
  throw invalid(`a DKIM key must be RSA or Ed25519, not ${key.asymmetricKeyType}`);
}

function importKey(pem: unknown): KeyObject {
  if (typeof pem !== 'string') throw invalid('privateKey must be a PEM string');
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw invalid('privateKey is not a readable PEM private key (PKCS#8 or PKCS#1, unencrypted)');
  }
}

function generate(keyType: unknown): KeyObject {
  if (keyType === undefined || keyType === 'rsa') {
    return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  }
  if (keyType === 'ed25519') return generateKeyPairSync('ed25519').privateKey;
  throw invalid('keyType must be "rsa" or "ed25519"');
}

function view(r: Pick<DkimRow, 'domain' | 'selector' | 'algorithm' | 'public_key'>): DkimKeyView {
  const k = r.algorithm === 'ed25519-sha256' ? 'ed25519' : 'rsa';
  return {
    domain: r.domain,
    selector: r.selector,
    algorithm: r.algorithm,
    dnsRecord: {
      name: `${r.selector}._domainkey.${r.domain}`,
      type: 'TXT',
      value: `v=DKIM1; k=${k}; p=${r.public_key}`,
    },
  };
}

@Injectable()
export class DkimKeys {
  /** Opened keys per tenant, valid while the row's updated_at is unchanged. */
  private readonly opened = new Map<string, { updatedAt: number; key: DkimSigningKey }>();

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(MASTER_KEYS) private readonly keys: MasterKeyRing,
  ) {}

  /** Generate or import the tenant's key; the domain must align with its certificates. */
  async put(tenantId: string, body: DkimKeyRequest): Promise<DkimKeyView> {
    const domain = typeof body.domain === 'string' ? body.domain.trim().toLowerCase() : '';
    const selector = typeof body.selector === 'string' ? body.selector.trim().toLowerCase() : '';
    if (!DOMAIN.test(domain)) throw invalid('domain must be a domain name such as example.com');
    if (!SELECTOR.test(selector)) throw invalid('selector must be a DNS label such as s1');
    await this.checkAlignment(tenantId, domain);
    const privateKey =
      body.privateKey !== undefined ? importKey(body.privateKey) : generate(body.keyType);
    const algorithm = algorithmOf(privateKey);
    const pem = Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const sealed = sealPrivateKey(pem, ownerOf(tenantId), this.keys);
    pem.fill(0);
    const row = { domain, selector, algorithm, public_key: publicKeyValue(privateKey) };
    await this.db.session.query(
      `INSERT INTO dkim_keys (tenant_id, domain, selector, algorithm, public_key,
                              sealed_private_key, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp())
       ON CONFLICT (tenant_id) DO UPDATE SET domain = $2, selector = $3, algorithm = $4,
         public_key = $5, sealed_private_key = $6, updated_at = clock_timestamp()`,
      [tenantId, domain, selector, algorithm, row.public_key, sealed],
    );
    return view(row);
  }

  async get(tenantId: string): Promise<DkimKeyView | undefined> {
    const [r] = await this.db.session.query<DkimRow>(
      'SELECT domain, selector, algorithm, public_key FROM dkim_keys WHERE tenant_id = $1',
      [tenantId],
    );
    return r ? view(r) : undefined;
  }

  async remove(tenantId: string): Promise<boolean> {
    const rows = await this.db.session.query(
      'DELETE FROM dkim_keys WHERE tenant_id = $1 RETURNING tenant_id',
      [tenantId],
    );
    this.opened.delete(tenantId);
    return rows.length > 0;
  }

  /** The key to sign a message from `fromAddress` with, if the tenant has one that aligns. */
  async signingKeyFor(
    tenantId: string,
    fromAddress: string,
    updatedAt?: Date | null,
  ): Promise<DkimSigningKey | undefined> {
    // The caller's read already says whether there is a key and when it changed.
    if (updatedAt === null) {
      this.opened.delete(tenantId);
      return undefined;
    }
    const known = this.opened.get(tenantId);
    if (known && updatedAt && known.updatedAt === new Date(updatedAt).getTime()) {
      return domainsAlign(domainOf(fromAddress), known.key.domain) ? known.key : undefined;
    }
    const [r] = await this.db.session.query<DkimRow>(
      `SELECT domain, selector, algorithm, public_key, sealed_private_key, updated_at
         FROM dkim_keys WHERE tenant_id = $1`,
      [tenantId],
    );
    if (!r) {
      this.opened.delete(tenantId);
      return undefined;
    }
    const changedAt = new Date(r.updated_at).getTime();
    const cached = this.opened.get(tenantId);
    let key = cached && cached.updatedAt === changedAt ? cached.key : undefined;
    if (!key) {
      const pem = openPrivateKey(Buffer.from(r.sealed_private_key), ownerOf(tenantId), this.keys);
      key = {
        domain: r.domain,
        selector: r.selector,
        algorithm: r.algorithm,
        privateKey: createPrivateKey({ key: pem, format: 'pem' }),
      };
      pem.fill(0);
      this.opened.set(tenantId, { updatedAt: changedAt, key });
    }
    return domainsAlign(domainOf(fromAddress), key.domain) ? key : undefined;
  }

  /** 400 when the tenant has active certificates and none of their addresses aligns. */
  private async checkAlignment(tenantId: string, domain: string): Promise<void> {
    const certificates = await activeCertificatesOf(this.db.session, tenantId);
    const addresses = certificates.flatMap((c) => c.emailAddresses);
    const domains = [...new Set(addresses.map(domainOf))].sort();
    if (domains.length === 0 || domains.some((d) => domainsAlign(d, domain))) return;
    throw invalid(
      `the DKIM domain ${domain} does not align with the domains of the tenant's certificates ` +
        `(${domains.join(', ')}); DMARC needs the DKIM domain to match the From domain`,
    );
  }
}
