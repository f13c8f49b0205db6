/**
 * verifyMessage(): checks an S/MIME signed message, detached or opaque, the way a mail
 * client would: digest, signature, From: against the certificate, and (given trust
 * anchors) the chain. Every problem is reported with a stable error code; nothing throws
 * for a bad message.
 */
import * as crypto from 'node:crypto';
import { isRelayError, RelayError } from '../plugin/relay-error';
import type { ErrorCode } from '../plugin/error-codes';
import { OID } from './algorithms';
import { singleFromAddress } from './address';
import { child, intOf, oidOf, type BerNode } from './ber';
import { certificatesFrom, parseCertificate, type CertificateInfo } from './certificate';
import { readSignedData, type SignerInfoView } from './cms-reader';
import { parseTime } from './der';
import { checkProfile } from './identity';
import { verifyChain } from './chain';
import { extract, type Extracted } from './smime-message';
import { messageDate, READER_DATE_TOLERANCE_MS } from './signing-time';

export interface VerifyOptions {
  /** Trusted root (or intermediate) certificates, PEM or DER. Without them the chain is not judged. */
  trustAnchors?: (string | Buffer)[];
  /** The instant certificates must be valid at; default now. */
  now?: Date;
}

export interface SignerReport {
  subject: string;
  emailAddresses: string[];
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  fingerprintSha256: string;
}

export interface VerificationReport {
  /** True only when every check that ran passed (signature, digest, From, chain if anchors given). */
  valid: boolean;
  /** The content digest and the signature value both verify. */
  signatureValid: boolean;
  format?: 'detached' | 'opaque';
  signer?: SignerReport;
  digestAlgorithm?: string;
  signatureAlgorithm?: string;
  signingTime?: string;
  from?: string;
  fromMatches: boolean;
  /** null when no trust anchors were given. */
  chainTrusted: boolean | null;
  errors: { code: ErrorCode; message: string }[];
}

const DIGESTS: Record<string, string> = {
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
  [OID.sha1]: 'sha1',
};
const SIG_HASH: Record<string, string> = {
  [OID.sha256WithRSA]: 'sha256',
  [OID.sha384WithRSA]: 'sha384',
  [OID.sha512WithRSA]: 'sha512',
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
};

function findSigner(signer: SignerInfoView, certs: CertificateInfo[]): CertificateInfo | undefined {
  const { issuerAndSerial, subjectKeyIdentifier } = signer.sid;
  if (issuerAndSerial) {
    return certs.find(
      (c) =>
        c.issuerDer.equals(issuerAndSerial.issuer) && c.serialDer.equals(issuerAndSerial.serial),
    );
  }
  return certs.find((c) => c.subjectKeyIdentifier?.equals(subjectKeyIdentifier ?? Buffer.alloc(0)));
}

function verifySignatureValue(
  signer: SignerInfoView,
  data: Buffer,
  cert: CertificateInfo,
): { ok: boolean; algorithm: string } {
  const algOid = oidOf(child(signer.signatureAlgorithm, 0));
  const key = cert.x509.publicKey;
  const digest = DIGESTS[signer.digestAlgorithm];
  if (algOid === OID.rsassaPss) {
    const params: BerNode | undefined = signer.signatureAlgorithm.children[1];
    const field = (tag: number): BerNode | undefined =>
      params?.children.find((c) => c.cls === 2 && c.tag === tag);
    const hashNode = field(0);
    const hash = hashNode ? DIGESTS[oidOf(child(child(hashNode, 0), 0))] : 'sha1';
    const saltNode = field(2);
    const saltLength = saltNode ? intOf(child(saltNode, 0)) : 20;
    const opts = { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength };
    return { ok: crypto.verify(hash, data, opts, signer.signature), algorithm: `rsa-pss-${hash}` };
  }
  if (algOid === OID.rsaEncryption || algOid in SIG_HASH) {
    const hash = SIG_HASH[algOid] ?? digest;
    const isEc = key.asymmetricKeyType === 'ec';
    const opts = isEc ? { key, dsaEncoding: 'der' as const } : key;
    const name = isEc ? `ecdsa-${hash}` : `rsa-pkcs1-${hash}`;
    return { ok: crypto.verify(hash, data, opts, signer.signature), algorithm: name };
  }
  if (algOid === OID.ecPublicKey) {
    return {
      ok: crypto.verify(digest, data, { key, dsaEncoding: 'der' }, signer.signature),
      algorithm: `ecdsa-${digest}`,
    };
  }
  throw new RelayError('bad_signature_format', `unsupported signature algorithm ${algOid}`);
}

function signerReport(c: CertificateInfo): SignerReport {
  return {
    subject: c.subject,
    emailAddresses: c.emailAddresses,
    issuer: c.issuer,
    serialNumber: c.x509.serialNumber,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    fingerprintSha256: c.fingerprintSha256,
  };
}

export async function verifyMessage(
  raw: Buffer,
  options: VerifyOptions = {},
): Promise<VerificationReport> {
  const report: VerificationReport = {
    valid: false,
    signatureValid: false,
    fromMatches: false,
    chainTrusted: null,
    errors: [],
  };
  const fail = (code: ErrorCode, message: string): void =>
    void report.errors.push({ code, message });
  try {
    const x = extract(raw);
    report.format = x.format;
    let sd;
    try {
      sd = readSignedData(x.der);
    } catch (e) {
      throw new RelayError(
        'bad_signature_format',
        'the signature is not a readable CMS SignedData',
        { cause: e },
      );
    }
    const content = x.content ?? sd.eContent;
    if (!content)
      throw new RelayError(
        'bad_signature_format',
        'the signature carries no content and none is attached',
      );
    const signer = sd.signers[0];
    if (!signer) throw new RelayError('bad_signature_format', 'the SignedData has no signer');
    const certs = sd.certificates.map(parseCertificate);
    const cert = findSigner(signer, certs);
    if (!cert)
      throw new RelayError(
        'signer_certificate_missing',
        'the signer certificate is not in the message',
      );
    report.signer = signerReport(cert);
    const digestName = DIGESTS[signer.digestAlgorithm];
    if (!digestName)
      throw new RelayError('bad_signature_format', `unsupported digest ${signer.digestAlgorithm}`);
    report.digestAlgorithm = digestName;
    if (digestName === 'sha1') {
      // Thunderbird (since 115) and other current clients refuse SHA-1 signatures.
      fail('weak_digest', 'the signature uses SHA-1, which current mail clients refuse');
    }
    const digest = crypto.createHash(digestName).update(content).digest();
    let signedData = content;
    let digestOk = true;
    if (sd.eContentType !== OID.data) {
      fail('bad_signature_format', `the signed content type is ${sd.eContentType}, not data`);
    }
    if (signer.signedAttributesDer) {
      const md = signer.attributes.get(OID.messageDigest);
      digestOk = md?.length === 1 && md[0].content.equals(digest);
      // RFC 5652 §11.1: the contentType attribute must be present and match eContentType.
      const type = signer.attributes.get(OID.contentType);
      if (type?.length !== 1 || oidOf(type[0]) !== sd.eContentType) {
        fail(
          'bad_signature_format',
          'the contentType signed attribute is missing or does not match',
        );
      }
      const st = signer.attributes.get(OID.signingTime)?.[0];
      if (st) {
        const at = parseTime(st.content.toString('latin1'));
        report.signingTime = at?.toISOString();
        checkSigningTime(at, x.outer, fail);
      }
      signedData = signer.signedAttributesDer;
    }
    if (!digestOk) fail('digest_mismatch', 'the content does not match the signed digest');
    const sig = verifySignatureValue(signer, signedData, cert);
    report.signatureAlgorithm = sig.algorithm;
    if (!sig.ok)
      fail('bad_signature', 'the signature value does not verify with the signer certificate key');
    report.signatureValid = digestOk && sig.ok;
    checkFromAgainst(report, x.outer, cert, fail);
    await checkCertificate(report, cert, certs, options, fail);
  } catch (e) {
    if (isRelayError(e)) fail(e.code, e.message);
    else fail('bad_signature_format', 'the message could not be read as S/MIME');
  }
  report.valid = report.errors.length === 0 && report.signatureValid;
  return report;
}

type Fail = (code: ErrorCode, message: string) => void;

/**
 * Thunderbird's check (mimemcms.cpp): a signingTime more than an hour from `Date:`, or a
 * `Date:` it cannot read, makes the signature "not valid" for the reader.
 */
function checkSigningTime(at: Date | undefined, outer: Extracted['outer'], fail: Fail): void {
  const date = messageDate(outer);
  if (!at || !date) {
    fail(
      'signing_time_mismatch',
      'the signature has a signingTime but the message has no single readable Date:',
    );
    return;
  }
  const apart = Math.abs(at.getTime() - date.getTime());
  const minutes = Math.round(apart / 60_000);
  if (apart > READER_DATE_TOLERANCE_MS) {
    fail(
      'signing_time_mismatch',
      `signingTime ${at.toISOString()} is ${minutes} minutes from Date: ${date.toISOString()} (more than an hour)`,
    );
  }
}

function checkFromAgainst(
  report: VerificationReport,
  outer: Extracted['outer'],
  cert: CertificateInfo,
  fail: Fail,
): void {
  try {
    report.from = singleFromAddress(outer);
    report.fromMatches = cert.emailAddresses.includes(report.from);
    if (!report.fromMatches) {
      fail(
        'from_mismatch',
        `From: is ${report.from}, but the certificate names ${cert.emailAddresses.join(', ') || 'no address'}`,
      );
    }
  } catch (e) {
    if (isRelayError(e)) fail(e.code, e.message);
    else throw e;
  }
}

async function checkCertificate(
  report: VerificationReport,
  cert: CertificateInfo,
  pool: CertificateInfo[],
  options: VerifyOptions,
  fail: Fail,
): Promise<void> {
  const now = options.now ?? new Date();
  if (now > cert.notAfter)
    fail('certificate_expired', `the signer certificate expired on ${cert.notAfter.toISOString()}`);
  if (now < cert.notBefore)
    fail(
      'certificate_not_yet_valid',
      `the signer certificate is valid only from ${cert.notBefore.toISOString()}`,
    );
  try {
    checkProfile(cert);
  } catch (e) {
    if (isRelayError(e)) fail(e.code, e.message);
  }
  if (!options.trustAnchors) return;
  const anchors = options.trustAnchors.flatMap(certificatesFrom).map(parseCertificate);
  const problem = await verifyChain(cert, pool, anchors, now);
  report.chainTrusted = problem === undefined;
  if (problem) fail('chain_untrusted', problem);
}
