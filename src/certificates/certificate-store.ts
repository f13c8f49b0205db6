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
  custodyIdentity,
  loadSigningIdentity,
  type IdentityInput,
  type SigningIdentity,
} from '../smime';
import { KeyCustody, custodyRef, relayErrorOf, type RemoteCustody } from '../custody/key-custody';
import { lintSmimeCertificate } from './smime-lint';
import { MASTER_KEYS } from '../config/tokens';
import {
  CertificatesRepository,
  custodyOwner,
  type CertificateRow,
  type StoredLint,
} from './certificates.repository';
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
  /** Where the private key lives: sealed here, on an HSM (pkcs11), in AWS KMS. */
  custody: string;
  /** How the custody is reached, without its secrets (module, token, key; region, key ARN). */
  custodyRef?: Record<string, unknown>;
  /** The S/MIME Baseline Requirements profile, and what the lint found (see docs/custody.md). */
  lint: StoredLint;
  /** The key made in the relay this certificate was issued for, if any. */
  signingKeyId: string | null;
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
    custody: row.custody,
    ...(row.custody !== 'sealed' ? { custodyRef: row.custodyRef } : {}),
    lint: row.lint,
    signingKeyId: row.signingKeyId,
    status: row.status,
  };
}

/** Where a new certificate's key is: sealed here (the PKCS#8), or reached in its custody. */
export type KeyHolding =
  { custody: 'sealed'; pkcs8: Buffer } | { custody: 'pkcs11' | 'aws-kms'; settings: RemoteCustody };

/** The lint findings kept with a certificate: everything but a clean bill. */
export function lintOf(identity: SigningIdentity, now: Date): StoredLint {
  const report = lintSmimeCertificate(
    identity.certificate.der,
    identity.chain.map((c) => c.der),
    now,
  );
  return { profile: report.profile, findings: report.findings };
}

@Injectable()
export class CertificateStore {
  constructor(
    private readonly certificates: CertificatesRepository,
    @Inject(MASTER_KEYS) private readonly keys: MasterKeyRing,
    @Inject(DATABASE) private readonly db: Database,
    private readonly custody: KeyCustody,
  ) {}

  /** Check and store an upload; refusals are RelayErrors with the engine's codes. */
  async add(
    tenantId: string,
    input: IdentityInput,
    now = new Date(),
  ): Promise<CertificateMetadata> {
    const identity = loadSigningIdentity(input);
    const pkcs8 = identity.privateKey!.export({ type: 'pkcs8', format: 'der' });
    try {
      return await this.store(tenantId, identity, { custody: 'sealed', pkcs8 }, now);
    } finally {
      pkcs8.fill(0);
    }
  }

  /**
   * Check and store a certificate whose key stays in its custody (an HSM, a KMS): the key is
   * opened there, and must be the one the certificate carries.
   */
  async addInCustody(
    tenantId: string,
    input: { certificate: string | Buffer; chain?: string | Buffer | (string | Buffer)[] },
    settings: RemoteCustody,
    now = new Date(),
    signingKeyId?: string,
  ): Promise<CertificateMetadata> {
    const opened = await this.custody.open(settings).catch((e: unknown) => {
      throw relayErrorOf(e);
    });
    const identity = custodyIdentity(input, opened.spki, opened.signer);
    return this.store(
      tenantId,
      identity,
      { custody: settings.custody, settings: opened.settings },
      now,
      signingKeyId,
    );
  }

  /** Validity, the lint, the fingerprint check; then the row with its key or custody sealed. */
  async store(
    tenantId: string,
    identity: SigningIdentity,
    key: KeyHolding,
    now: Date,
    signingKeyId?: string,
  ): Promise<CertificateMetadata> {
    checkValidity(identity, now);
    const cert = identity.certificate;
    const existing = await this.certificates.findByFingerprint(tenantId, cert.fingerprintSha256);
    if (existing?.status === 'active') {
      throw new RelayError('already_exists', `certificate ${existing.id} has the same fingerprint`);
    }
    const id = existing?.id ?? randomUUID();
    const held = {
      sealedPrivateKey:
        key.custody === 'sealed'
          ? sealPrivateKey(key.pkcs8, { tenantId, certificateId: id }, this.keys)
          : Buffer.alloc(0),
      custody: key.custody,
      sealedCustody:
        key.custody === 'sealed'
          ? null
          : sealPrivateKey(
              Buffer.from(JSON.stringify(key.settings), 'utf8'),
              { tenantId, certificateId: custodyOwner(id) },
              this.keys,
            ),
      custodyRef: key.custody === 'sealed' ? {} : custodyRef(key.settings),
      lint: lintOf(identity, now),
      signingKeyId: signingKeyId ?? null,
    };
    const row = existing
      ? await this.certificates.reactivate(id, held)
      : await this.certificates.insert({
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
          ...held,
        });
    const metadata = metadataOf(row);
    await recordEvent(this.db.session, tenantId, 'certificate.added', {
      certificate: certificateEventData(metadata),
    });
    return metadata;
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

  private async open(row: CertificateRow): Promise<SigningIdentity> {
    const chain = splitDer(row.chainDer);
    if (row.custody !== 'sealed') {
      if (!row.sealedCustody) {
        throw new RelayError('key_unavailable', 'the certificate has no key custody settings');
      }
      const plain = openPrivateKey(
        row.sealedCustody,
        { tenantId: row.tenantId, certificateId: custodyOwner(row.id) },
        this.keys,
      );
      const settings = JSON.parse(plain.toString('utf8')) as RemoteCustody;
      plain.fill(0);
      const opened = await this.custody.open(settings).catch((e: unknown) => {
        throw relayErrorOf(e);
      });
      return custodyIdentity(
        { certificate: row.certificateDer, chain },
        opened.spki,
        opened.signer,
        {
          checkChain: false,
        },
      );
    }
    const key = openPrivateKey(
      row.sealedPrivateKey,
      { tenantId: row.tenantId, certificateId: row.id },
      this.keys,
    );
    try {
      // Checked when it was uploaded; a later, stricter chain rule must not stop its signing.
      return loadSigningIdentity(
        { certificate: row.certificateDer, privateKey: key, chain },
        { checkChain: false },
      );
    } finally {
      key.fill(0);
    }
  }
}
