/**
 * The certificate store: uploads are checked by the signing engine (profile, key match,
 * validity), their private keys sealed by the key vault; signing identities are opened
 * again on demand, for the address a message is sent from.
 */
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RelayError } from '../plugin/relay-error';
import {
  checkValidity,
  loadSigningIdentity,
  type IdentityInput,
  type SigningIdentity,
} from '../smime';
import { MASTER_KEYS } from '../config/tokens';
import { CertificatesRepository, type CertificateRow } from './certificates.repository';
import { MasterKeyRing, openPrivateKey, sealPrivateKey } from '../secrets/key-vault';
import { readTlv } from '../smime/der';
import { DATABASE } from '../database/database.module';
import type { Database } from '../database/connection';
import { recordEvent, type CertificateEventData } from '../events/event-log';

/** What webhook payloads say about a certificate. */
export const certificateEventData = (c: CertificateMetadata): CertificateEventData => ({
  id: c.id,
  fingerprintSha256: c.fingerprintSha256,
  emailAddresses: c.emailAddresses,
  notAfter: c.notAfter,
});

/** Concatenated DER values back into a list. */
function splitDer(all: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < all.length;) {
    const t = readTlv(all, at);
    out.push(all.subarray(t.start, t.end));
    at = t.end;
  }
  return out;
}

export interface CertificateMetadata {
  id: string;
  emailAddresses: string[];
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  fingerprintSha256: string;
  keyAlgorithm: string;
  status: 'active' | 'removed';
}

export function metadataOf(row: CertificateRow): CertificateMetadata {
  return {
    id: row.id,
    emailAddresses: row.emailAddresses,
    subject: row.subject,
    issuer: row.issuer,
    serialNumber: row.serialNumber,
    notBefore: row.notBefore.toISOString(),
    notAfter: row.notAfter.toISOString(),
    fingerprintSha256: row.fingerprintSha256,
    keyAlgorithm: row.keyAlgorithm,
    status: row.status,
  };
}

@Injectable()
export class CertificateStore {
  constructor(
    private readonly certificates: CertificatesRepository,
    @Inject(MASTER_KEYS) private readonly keys: MasterKeyRing,
    @Inject(DATABASE) private readonly db: Database,
  ) {}

  /** Check and store an upload; refusals are RelayErrors with the engine's codes. */
  async add(
    tenantId: string,
    input: IdentityInput,
    now = new Date(),
  ): Promise<CertificateMetadata> {
    const identity = loadSigningIdentity(input);
    checkValidity(identity, now);
    const cert = identity.certificate;
    const existing = await this.certificates.findByFingerprint(tenantId, cert.fingerprintSha256);
    if (existing?.status === 'active') {
      throw new RelayError('already_exists', `certificate ${existing.id} has the same fingerprint`);
    }
    const id = existing?.id ?? randomUUID();
    const pkcs8 = identity.privateKey.export({ type: 'pkcs8', format: 'der' });
    const sealed = sealPrivateKey(pkcs8, { tenantId, certificateId: id }, this.keys);
    pkcs8.fill(0);
    const row = existing
      ? await this.certificates.reactivate(id, sealed)
      : await this.insertRow(id, tenantId, identity, sealed);
    const metadata = metadataOf(row);
    await recordEvent(this.db.session, tenantId, 'certificate.added', {
      certificate: certificateEventData(metadata),
    });
    return metadata;
  }

  private insertRow(
    id: string,
    tenantId: string,
    identity: SigningIdentity,
    sealed: Buffer,
  ): Promise<CertificateRow> {
    const cert = identity.certificate;
    return this.certificates.insert({
      id,
      tenantId,
      emailAddresses: identity.emailAddresses,
      subject: cert.subject,
      issuer: cert.issuer,
      serialNumber: cert.x509.serialNumber,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      fingerprintSha256: cert.fingerprintSha256,
      keyAlgorithm: identity.keyDetail,
      certificateDer: cert.der,
      chainDer: Buffer.concat(identity.chain.map((c) => c.der)),
      sealedPrivateKey: sealed,
    });
  }

  async list(tenantId: string): Promise<CertificateMetadata[]> {
    return (await this.certificates.list(tenantId)).map(metadataOf);
  }

  async get(tenantId: string, id: string): Promise<CertificateMetadata | undefined> {
    const row = await this.certificates.find(tenantId, id);
    return row && metadataOf(row);
  }

  async remove(tenantId: string, id: string): Promise<boolean> {
    const row = await this.certificates.find(tenantId, id);
    if (!row || row.status !== 'active' || !(await this.certificates.remove(tenantId, id))) {
      return false;
    }
    await recordEvent(this.db.session, tenantId, 'certificate.removed', {
      certificate: certificateEventData(metadataOf(row)),
    });
    return true;
  }

  /** The identity for a From address: the valid certificate covering it that expires last. */
  async identityFor(
    tenantId: string,
    address: string,
    now = new Date(),
  ): Promise<SigningIdentity | undefined> {
    const row = await this.certificates.forAddress(tenantId, address, now);
    return row && this.open(row);
  }

  /** The identity of one stored certificate (active or not), its key decrypted. */
  async identityById(tenantId: string, id: string): Promise<SigningIdentity | undefined> {
    const row = await this.certificates.find(tenantId, id);
    return row && this.open(row);
  }

  private open(row: CertificateRow): SigningIdentity {
    const key = openPrivateKey(
      row.sealedPrivateKey,
      { tenantId: row.tenantId, certificateId: row.id },
      this.keys,
    );
    try {
      // Checked when it was uploaded; a later, stricter chain rule must not stop its signing.
      return loadSigningIdentity(
        { certificate: row.certificateDer, privateKey: key, chain: splitDer(row.chainDer) },
        { checkChain: false },
      );
    } finally {
      key.fill(0);
    }
  }
}
