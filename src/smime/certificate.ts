/**
 * What the signer needs to know about an X.509 certificate, read straight from its DER:
 * the exact issuer and serial bytes for the SignerInfo, validity, key usages and the
 * email addresses it names.
 */
import { X509Certificate } from 'node:crypto';
import { RelayError } from '../plugin/relay-error';
import { OID } from './algorithms';
import { bytesOf, children, contentOf, decodeOid, parseTime, readTlv, type Tlv } from './der';

export interface CertificateInfo {
  der: Buffer;
  x509: X509Certificate;
  /** The serialNumber INTEGER TLV. */
  serialDer: Buffer;
  /** The issuer Name TLV. */
  issuerDer: Buffer;
  subjectDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** Key usage bits when the extension is present. */
  keyUsage?: { digitalSignature: boolean; nonRepudiation: boolean; keyCertSign: boolean };
  /** Extended key usage OIDs when the extension is present. */
  extKeyUsage?: string[];
  /** rfc822Name subjectAltNames, then legacy subject emailAddress values, lower-cased. */
  emailAddresses: string[];
  isCa: boolean;
  /** The subjectKeyIdentifier extension value, when present. */
  subjectKeyIdentifier?: Buffer;
  subject: string;
  issuer: string;
  fingerprintSha256: string;
}

function timeOf(der: Buffer, t: Tlv): Date {
  const text = contentOf(der, t).toString('latin1');
  const date = parseTime(text);
  if (!date) throw new Error(`unsupported time ${text}`);
  return date;
}

function nameEmails(der: Buffer, name: Tlv): string[] {
  const out: string[] = [];
  for (const rdn of children(der, name)) {
    for (const atv of children(der, rdn)) {
      const [type, value] = children(der, atv);
      if (decodeOid(contentOf(der, type)) === OID.emailAddress) {
        out.push(contentOf(der, value).toString('utf8').toLowerCase());
      }
    }
  }
  return out;
}

const dn = (x: string): string => x.split('\n').join(', ');

/** Read a certificate; anything X.509 or our DER reader refuses is bad_certificate. */
export function parseCertificate(der: Buffer): CertificateInfo {
  try {
    return readCertificate(der);
  } catch (e) {
    if (e instanceof RelayError) throw e;
    throw new RelayError('bad_certificate', 'the certificate could not be read as X.509', {
      cause: e,
    });
  }
}

function readCertificate(der: Buffer): CertificateInfo {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (e) {
    throw new RelayError('bad_certificate', 'the certificate could not be read as X.509', {
      cause: e,
    });
  }
  const cert = readTlv(der, 0);
  const tbs = children(der, readTlv(der, cert.contentStart));
  const fields = tbs[0].tag === 0xa0 ? tbs.slice(1) : tbs;
  const [serial, , issuer, validity, subject] = fields;
  const [notBefore, notAfter] = children(der, validity);
  const info: CertificateInfo = {
    der,
    x509,
    serialDer: bytesOf(der, serial),
    issuerDer: bytesOf(der, issuer),
    subjectDer: bytesOf(der, subject),
    notBefore: timeOf(der, notBefore),
    notAfter: timeOf(der, notAfter),
    emailAddresses: [],
    isCa: false,
    subject: dn(x509.subject),
    issuer: dn(x509.issuer),
    fingerprintSha256: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
  const sanEmails: string[] = [];
  const extensions = fields.find((f) => f.tag === 0xa3);
  for (const ext of extensions ? children(der, readTlv(der, extensions.contentStart)) : []) {
    const parts = children(der, ext);
    const id = decodeOid(contentOf(der, parts[0]));
    const value = readTlv(der, parts[parts.length - 1].contentStart);
    if (id === OID.keyUsage) {
      const bits = contentOf(der, value);
      const first = bits[1] ?? 0;
      info.keyUsage = {
        digitalSignature: (first & 0x80) !== 0,
        nonRepudiation: (first & 0x40) !== 0,
        keyCertSign: (first & 0x04) !== 0,
      };
    } else if (id === OID.extKeyUsage) {
      info.extKeyUsage = children(der, value).map((o) => decodeOid(contentOf(der, o)));
    } else if (id === OID.subjectAltName) {
      for (const gn of children(der, value)) {
        if (gn.tag === 0x81) sanEmails.push(contentOf(der, gn).toString('latin1').toLowerCase());
      }
    } else if (id === OID.subjectKeyIdentifier) {
      info.subjectKeyIdentifier = contentOf(der, value);
    } else if (id === OID.basicConstraints) {
      const bc = children(der, value);
      info.isCa = bc.length > 0 && bc[0].tag === 0x01 && der[bc[0].contentStart] !== 0;
    }
  }
  info.emailAddresses = [...new Set([...sanEmails, ...nameEmails(der, subject)])];
  return info;
}

/** Certificates from PEM text (any number of CERTIFICATE blocks) or a single DER blob. */
export function certificatesFrom(input: string | Buffer): Buffer[] {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const out: Buffer[] = [];
    const re =
      /-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----([\s\S]*?)-----END (?:X509 |TRUSTED )?CERTIFICATE-----/g;
    for (const m of text.matchAll(re)) out.push(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
    return out;
  }
  return typeof input === 'string' ? [] : [input];
}

export const isSelfIssued = (c: CertificateInfo): boolean => c.issuerDer.equals(c.subjectDer);
