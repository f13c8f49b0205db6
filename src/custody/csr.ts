/**
 * A certificate signing request (PKCS#10, RFC 2986) for a key that stays in its custody: the
 * request is encoded here and its signature made by the key's KeySigner, so the key never
 * has to be exported. It asks for what an S/MIME signing certificate needs (RFC 8550, the
 * CA/B Forum S/MIME Baseline Requirements 7.1.2.3): the e-mail addresses as rfc822Name in
 * subjectAltName, keyUsage digitalSignature, extKeyUsage emailProtection. The CA decides the
 * rest (policy, validity, its own subject rules).
 */
import { OID, type HashName, type SignatureScheme } from '../smime/algorithms';
import { integer, nullValue, octets, oid, seq, setOf, tlv } from '../smime/der';
import type { KeySigner } from '../smime';
import { RelayError } from '../plugin/relay-error';

/** The subject the request names; every field optional (a mailbox certificate needs none). */
export interface CsrSubject {
  commonName?: string;
  organizationName?: string;
  organizationalUnitName?: string;
  localityName?: string;
  stateOrProvinceName?: string;
  /** Two letters, ISO 3166 (JP, DE …). */
  countryName?: string;
  /** Given name and surname, for individual-validated certificates. */
  givenName?: string;
  surname?: string;
}

/** Attribute types in the order a Name lists them (RFC 5280 §4.1.2.4). */
const SUBJECT_ORDER: [keyof CsrSubject, string][] = [
  ['countryName', '2.5.4.6'],
  ['stateOrProvinceName', '2.5.4.8'],
  ['localityName', '2.5.4.7'],
  ['organizationName', '2.5.4.10'],
  ['organizationalUnitName', '2.5.4.11'],
  ['givenName', '2.5.4.42'],
  ['surname', '2.5.4.4'],
  ['commonName', '2.5.4.3'],
];

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const UTF8_STRING = 0x0c;
const PRINTABLE_STRING = 0x13;
const BIT_STRING = 0x03;
const BOOLEAN_TRUE = Buffer.from([0x01, 0x01, 0xff]);

const SIGNATURE_OID: Record<Exclude<SignatureScheme, 'rsa-pss'>, Record<HashName, string>> = {
  'rsa-pkcs1': {
    sha256: OID.sha256WithRSA,
    sha384: OID.sha384WithRSA,
    sha512: OID.sha512WithRSA,
  },
  ecdsa: { sha256: OID.ecdsaWithSha256, sha384: OID.ecdsaWithSha384, sha512: OID.ecdsaWithSha512 },
};

/** The Name of `subject`: one RDN per attribute given. */
export function encodeName(subject: CsrSubject): Buffer {
  const rdns: Buffer[] = [];
  for (const [field, type] of SUBJECT_ORDER) {
    const value = subject[field]?.trim();
    if (!value) continue;
    if (field === 'countryName' && !/^[A-Z]{2}$/.test(value)) {
      throw new RelayError('invalid_request', 'subject.countryName must be two capital letters');
    }
    const tag = field === 'countryName' ? PRINTABLE_STRING : UTF8_STRING;
    rdns.push(setOf([seq(oid(type), tlv(tag, Buffer.from(value, 'utf8')))]));
  }
  return seq(...rdns);
}

const extension = (id: string, critical: boolean, value: Buffer): Buffer =>
  critical ? seq(oid(id), BOOLEAN_TRUE, octets(value)) : seq(oid(id), octets(value));

/** subjectAltName with the addresses, keyUsage digitalSignature, extKeyUsage emailProtection. */
function extensionRequest(emailAddresses: string[]): Buffer {
  const san = seq(...emailAddresses.map((a) => tlv(0x81, Buffer.from(a, 'ascii'))));
  // BIT STRING, 7 unused bits, bit 0 (digitalSignature) set.
  const keyUsage = tlv(BIT_STRING, Buffer.from([0x07, 0x80]));
  const eku = seq(oid(OID.emailProtection));
  const extensions = seq(
    extension(OID.subjectAltName, false, san),
    extension(OID.keyUsage, true, keyUsage),
    extension(OID.extKeyUsage, false, eku),
  );
  return seq(oid(EXTENSION_REQUEST), setOf([extensions]));
}

/** The signature scheme and hash a CSR is signed with, for a key of this spec. */
export function csrAlgorithm(keySpec: string): { scheme: 'rsa-pkcs1' | 'ecdsa'; hash: HashName } {
  if (keySpec.startsWith('RSA')) return { scheme: 'rsa-pkcs1', hash: 'sha256' };
  if (keySpec === 'P-384') return { scheme: 'ecdsa', hash: 'sha384' };
  return { scheme: 'ecdsa', hash: 'sha256' };
}

/**
 * The DER of a signed PKCS#10 request for the key with public key `spki` (DER
 * SubjectPublicKeyInfo), signed by `signer`.
 */
export async function buildCsr(o: {
  spki: Buffer;
  keySpec: string;
  subject: CsrSubject;
  emailAddresses: string[];
  signer: KeySigner;
}): Promise<Buffer> {
  if (o.emailAddresses.length === 0) {
    throw new RelayError('invalid_request', 'a signing certificate needs at least one address');
  }
  const info = seq(
    integer(0),
    encodeName(o.subject),
    o.spki,
    tlv(0xa0, extensionRequest(o.emailAddresses)),
  );
  const { scheme, hash } = csrAlgorithm(o.keySpec);
  const signature = await o.signer.sign(hash, scheme, info);
  const algorithm =
    scheme === 'rsa-pkcs1'
      ? seq(oid(SIGNATURE_OID[scheme][hash]), nullValue())
      : seq(oid(SIGNATURE_OID[scheme][hash]));
  return seq(info, algorithm, tlv(BIT_STRING, Buffer.from([0]), signature));
}

/** PEM armour for a CSR. */
export const csrPem = (der: Buffer): string =>
  `-----BEGIN CERTIFICATE REQUEST-----\n${der
    .toString('base64')
    .replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE REQUEST-----\n`;
