/**
 * Keys born in the relay: a tenant asks for a key in a custody (sealed here, on an HSM, in
 * AWS KMS) and gets a CSR for a CA; the key is never exported. The certificate the CA issues
 * is attached later, after checking it carries this key, and becomes one of the tenant's
 * certificates with the key's custody. A renewal is a new CSR for the same key (or a new
 * key): the old certificate keeps signing until the new one is attached, and from then on
 * the certificate that expires last covers the address.
 *
 * The one module with SQL on `signing_keys`.
 */
import { Inject, Injectable } from '@nestjs/common';
import { generateKeyPairSync, randomUUID, createPrivateKey } from 'node:crypto';
import * as pkijs from 'pkijs';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { MASTER_KEYS } from '../config/tokens';
import { MasterKeyRing, openPrivateKey, sealPrivateKey } from '../secrets/key-vault';
import type { SealedColumn } from '../secrets/rotate-master-key';
import { RelayError } from '../plugin/relay-error';
import { isUuid } from '../common/ids';
import { custodyIdentity, localSigner, type KeySigner } from '../smime';
import { CertificateStore, type CertificateMetadata } from './certificate-store';
import { certificateSql } from './certificates.repository';
import {
  KeyCustody,
  custodyRef,
  relayErrorOf,
  type KeySpec,
  type RemoteCustody,
} from '../custody/key-custody';
import { buildCsr, csrPem, type CsrSubject } from '../custody/csr';
import type { Custody } from '../custody/custody';

/** What a new key is asked for with. `custody` without a key label or id: a new key is made. */
export interface NewSigningKey {
  custody: { custody: 'sealed' } | RemoteCustody;
  spec: KeySpec;
  emailAddresses: string[];
  subject?: CsrSubject;
}

export interface SigningKeyView {
  id: string;
  custody: Custody;
  spec: KeySpec;
  /** How the custody reaches it, without secrets (module, token, key id; region, key ARN). */
  custodyRef?: Record<string, unknown>;
  emailAddresses: string[];
  subject: CsrSubject;
  /** The latest CSR for this key, PEM. */
  csr: string;
  /** Certificates attached to this key. */
  certificateIds: string[];
  createdAt: string;
}

interface Row {
  id: string;
  tenant_id: string;
  custody: Custody;
  spec: KeySpec;
  public_key_der: Buffer | Uint8Array;
  sealed_private_key: Buffer | Uint8Array | null;
  sealed_custody: Buffer | Uint8Array | null;
  custody_ref: Record<string, unknown>;
  subject: CsrSubject;
  email_addresses: string[];
  csr_der: Buffer | Uint8Array;
  created_at: Date;
  certificate_ids: string[] | null;
}

const bytes = (v: Buffer | Uint8Array): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v));
const keyOwner = (id: string) => `key/${id}`;
const keyCustodyOwner = (id: string) => `key-custody/${id}`;

/** The sealed columns of signing_keys, for master key rotation. */
export const SIGNING_KEY_SECRETS: SealedColumn[] = [
  {
    what: 'keys made in the relay',
    select:
      'SELECT tenant_id, id AS key, sealed_private_key AS sealed FROM signing_keys WHERE length(sealed_private_key) > 0',
    update:
      'UPDATE signing_keys SET sealed_private_key = $1 WHERE id = $2 AND sealed_private_key = $3',
    owner: (row) => ({ tenantId: row.tenant_id, certificateId: keyOwner(row.key) }),
  },
  {
    what: 'custody settings of keys made in the relay',
    select:
      'SELECT tenant_id, id AS key, sealed_custody AS sealed FROM signing_keys WHERE length(sealed_custody) > 0',
    update: 'UPDATE signing_keys SET sealed_custody = $1 WHERE id = $2 AND sealed_custody = $3',
    owner: (row) => ({ tenantId: row.tenant_id, certificateId: keyCustodyOwner(row.key) }),
  },
];

const ADDRESS = /^[^\s@<>"]{1,64}@[A-Za-z0-9.-]{1,253}$/;

/** Certificates from PEM (CERTIFICATE or PKCS7 blocks), DER, or a DER PKCS#7 certs-only bundle. */
export function certificatesOfUpload(input: string | Buffer): Buffer[] {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  const out: Buffer[] = [];
  const blocks = text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g);
  let any = false;
  for (const m of blocks) {
    any = true;
    const der = Buffer.from(m[2].replace(/\s+/g, ''), 'base64');
    if (/PKCS7|CMS/.test(m[1])) out.push(...pkcs7Certificates(der));
    else if (/CERTIFICATE$/.test(m[1])) out.push(der);
  }
  if (any) return out;
  const der = typeof input === 'string' ? Buffer.from(input, 'base64') : input;
  const pkcs7 = pkcs7Certificates(der, false);
  return pkcs7.length ? pkcs7 : [der];
}

function pkcs7Certificates(der: Buffer, strict = true): Buffer[] {
  try {
    const info = pkijs.ContentInfo.fromBER(der);
    if (info.contentType !== pkijs.ContentInfo.SIGNED_DATA) throw new Error('not SignedData');
    const signed = new pkijs.SignedData({ schema: info.content });
    return (signed.certificates ?? [])
      .filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
      .map((c) => Buffer.from(c.toSchema().toBER(false)));
  } catch (e) {
    if (!strict) return [];
    throw new RelayError('bad_certificate', 'the PKCS#7 bundle could not be read', { cause: e });
  }
}

@Injectable()
export class SigningKeys {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(MASTER_KEYS) private readonly keys: MasterKeyRing,
    private readonly custody: KeyCustody,
    private readonly certificates: CertificateStore,
  ) {}

  /** Make a key in its custody and a CSR for it. */
  async create(tenantId: string, body: NewSigningKey): Promise<SigningKeyView> {
    const emails = checkedAddresses(body.emailAddresses);
    const id = randomUUID();
    const subject = body.subject ?? {};
    let signer: KeySigner;
    let spki: Buffer;
    let sealedKey: Buffer | null = null;
    let sealedCustody: Buffer | null = null;
    let ref: Record<string, unknown> = {};
    if (body.custody.custody === 'sealed') {
      const pair = newKeyPair(body.spec);
      spki = pair.publicKey.export({ type: 'spki', format: 'der' });
      const pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'der' });
      sealedKey = sealPrivateKey(pkcs8, { tenantId, certificateId: keyOwner(id) }, this.keys);
      pkcs8.fill(0);
      signer = localSigner(pair.privateKey);
    } else {
      const made = await this.custody
        .generate(body.custody, body.spec, `smime-relay ${tenantId.slice(0, 8)} ${id.slice(0, 8)}`)
        .catch((e: unknown) => {
          throw relayErrorOf(e);
        });
      signer = made.signer;
      spki = made.spki;
      ref = custodyRef(made.settings);
      sealedCustody = sealPrivateKey(
        Buffer.from(JSON.stringify(made.settings), 'utf8'),
        { tenantId, certificateId: keyCustodyOwner(id) },
        this.keys,
      );
    }
    const csr = await buildCsr({
      spki,
      keySpec: body.spec,
      subject,
      emailAddresses: emails,
      signer,
    }).catch((e: unknown) => {
      throw relayErrorOf(e);
    });
    await this.db.session.query(
      `INSERT INTO signing_keys (id, tenant_id, custody, spec, public_key_der, sealed_private_key,
         sealed_custody, custody_ref, subject, email_addresses, csr_der)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        id,
        tenantId,
        body.custody.custody,
        body.spec,
        spki,
        sealedKey,
        sealedCustody,
        JSON.stringify(ref),
        JSON.stringify(subject),
        emails,
        csr,
      ],
    );
    return (await this.get(tenantId, id))!;
  }

  async list(tenantId: string): Promise<SigningKeyView[]> {
    const rows = await this.db.session.query<Row>(
      `${SELECT} WHERE k.tenant_id = $1 AND k.removed_at IS NULL ORDER BY k.created_at DESC`,
      [tenantId],
    );
    return rows.map(view);
  }

  async get(tenantId: string, id: string): Promise<SigningKeyView | undefined> {
    const row = await this.row(tenantId, id);
    return row && view(row);
  }

  /** A new CSR for the same key (a renewal, or other addresses); the old certificate keeps signing. */
  async renew(
    tenantId: string,
    id: string,
    changes: { emailAddresses?: string[]; subject?: CsrSubject },
  ): Promise<SigningKeyView> {
    const row = await this.existing(tenantId, id);
    const emails = checkedAddresses(changes.emailAddresses ?? row.email_addresses);
    const subject = changes.subject ?? row.subject;
    const signer = await this.signerOf(row);
    const csr = await buildCsr({
      spki: bytes(row.public_key_der),
      keySpec: row.spec,
      subject,
      emailAddresses: emails,
      signer,
    }).catch((e: unknown) => {
      throw relayErrorOf(e);
    });
    await this.db.session.query(
      'UPDATE signing_keys SET csr_der = $3, subject = $4, email_addresses = $5 WHERE tenant_id = $1 AND id = $2',
      [tenantId, id, csr, JSON.stringify(subject), emails],
    );
    return (await this.get(tenantId, id))!;
  }

  /**
   * Attach the certificate a CA issued for this key (PEM, DER or a PKCS#7 bundle, with its
   * chain): it must carry this key's public key. It becomes a certificate of the tenant.
   */
  async attach(
    tenantId: string,
    id: string,
    upload: { certificate: string | Buffer; chain?: string | Buffer },
    now = new Date(),
  ): Promise<CertificateMetadata> {
    const row = await this.existing(tenantId, id);
    const certs = certificatesOfUpload(upload.certificate);
    if (certs.length === 0) {
      throw new RelayError('bad_certificate', 'no certificate was found in the upload');
    }
    const chain = upload.chain === undefined ? [] : certificatesOfUpload(upload.chain);
    const input = { certificate: certs[0], chain: [...certs.slice(1), ...chain] };
    const spki = bytes(row.public_key_der);
    if (row.custody === 'sealed') {
      const pkcs8 = this.openSealedKey(row);
      try {
        const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
        const identity = custodyIdentity(input, spki, localSigner(key));
        return await this.certificates.store(
          tenantId,
          identity,
          { custody: 'sealed', pkcs8 },
          now,
          id,
        );
      } finally {
        pkcs8.fill(0);
      }
    }
    return this.certificates.addInCustody(tenantId, input, this.custodyOf(row), now, id);
  }

  /** Forget a key. A sealed key is erased; a key on an HSM or in KMS stays there. */
  async remove(tenantId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.session.query(
      `UPDATE signing_keys SET removed_at = now(), sealed_private_key = NULL, sealed_custody = NULL
        WHERE tenant_id = $1 AND id = $2 AND removed_at IS NULL RETURNING id`,
      [tenantId, id],
    );
    return rows.length > 0;
  }

  private async row(tenantId: string, id: string): Promise<Row | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.session.query<Row>(
      `${SELECT} WHERE k.tenant_id = $1 AND k.id = $2 AND k.removed_at IS NULL`,
      [tenantId, id],
    );
    return row;
  }

  private async existing(tenantId: string, id: string): Promise<Row> {
    const row = await this.row(tenantId, id);
    if (!row) throw new RelayError('not_found', 'no such key');
    return row;
  }

  private openSealedKey(row: Row): Buffer {
    return openPrivateKey(
      bytes(row.sealed_private_key!),
      { tenantId: row.tenant_id, certificateId: keyOwner(row.id) },
      this.keys,
    );
  }

  private custodyOf(row: Row): RemoteCustody {
    const plain = openPrivateKey(
      bytes(row.sealed_custody!),
      { tenantId: row.tenant_id, certificateId: keyCustodyOwner(row.id) },
      this.keys,
    );
    try {
      return JSON.parse(plain.toString('utf8')) as RemoteCustody;
    } finally {
      plain.fill(0);
    }
  }

  private async signerOf(row: Row): Promise<KeySigner> {
    if (row.custody === 'sealed') {
      const pkcs8 = this.openSealedKey(row);
      try {
        return localSigner(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
      } finally {
        pkcs8.fill(0);
      }
    }
    const opened = await this.custody.open(this.custodyOf(row)).catch((e: unknown) => {
      throw relayErrorOf(e);
    });
    return opened.signer;
  }
}

const SELECT = `SELECT k.*, ${certificateSql.issuedFor('k.tenant_id', 'k.id')} AS certificate_ids
  FROM signing_keys k`;

function view(r: Row): SigningKeyView {
  return {
    id: r.id,
    custody: r.custody,
    spec: r.spec,
    ...(r.custody !== 'sealed' ? { custodyRef: r.custody_ref } : {}),
    emailAddresses: r.email_addresses,
    subject: r.subject,
    csr: csrPem(bytes(r.csr_der)),
    certificateIds: r.certificate_ids ?? [],
    createdAt: new Date(r.created_at).toISOString(),
  };
}

function checkedAddresses(list: string[]): string[] {
  const out = [...new Set(list.map((a) => a.trim().toLowerCase()))];
  if (out.length === 0 || out.length > 20) {
    throw new RelayError('invalid_request', 'emailAddresses must list 1 to 20 addresses');
  }
  const bad = out.find((a) => !ADDRESS.test(a));
  if (bad) throw new RelayError('invalid_request', `${bad} is not an e-mail address`);
  return out;
}

function newKeyPair(spec: KeySpec) {
  if (spec.startsWith('RSA')) {
    return generateKeyPairSync('rsa', { modulusLength: Number(spec.slice(4)) });
  }
  return generateKeyPairSync('ec', { namedCurve: spec });
}
