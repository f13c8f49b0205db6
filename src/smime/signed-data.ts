/**
 * CMS SignedData (RFC 5652) assembled by hand from DER pieces prepared once per identity.
 * Per message only the digest, the signing time and the signature are encoded.
 */
import * as crypto from 'node:crypto';
import {
  OID,
  digestAlgorithm,
  signatureAlgorithm,
  type HashName,
  type SignatureScheme,
} from './algorithms';
import { encodeDer, explicit, integer, node, octets, oid, seq, setOf, time, tlv, TAG } from './der';
import type { SigningIdentity } from './identity';

/** The DER that stays the same for every message of one identity, hash and scheme. */
interface SignerTemplate {
  version: Buffer;
  digestAlgorithms: Buffer;
  digestAlgorithm: Buffer;
  certificates: Buffer;
  sid: Buffer;
  signatureAlgorithm: Buffer;
  fixedAttributes: Buffer[];
}

const attribute = (type: string, value: Buffer): Buffer => seq(oid(type), tlv(TAG.SET, value));

const MESSAGE_DIGEST_OID = oid(OID.messageDigest);
const SIGNING_TIME_OID = oid(OID.signingTime);
const DATA_OID = oid(OID.data);
const SIGNED_DATA_OID = oid(OID.signedData);
/** Encapsulated content info of a detached signature: the data type, no content. */
const DETACHED_ENCAP = seq(DATA_OID);

/** RFC 8551 §2.5.2: strongest first; parameters are absent for these OIDs. */
const CAPABILITIES = seq(
  seq(oid(OID.aes256Gcm)),
  seq(oid(OID.aes128Gcm)),
  seq(oid(OID.aes256Cbc)),
  seq(oid(OID.aes192Cbc)),
  seq(oid(OID.aes128Cbc)),
);

function signingCertificateV2(identity: SigningIdentity): Buffer {
  const cert = identity.certificate;
  const hash = crypto.createHash('sha256').update(cert.der).digest();
  // ESSCertIDv2 with the default hash (SHA-256, so omitted) and IssuerSerial (RFC 5035).
  const issuerSerial = seq(seq(explicit(4, cert.issuerDer)), cert.serialDer);
  return seq(seq(seq(octets(hash), issuerSerial)));
}

const templates = new WeakMap<SigningIdentity, Map<string, SignerTemplate>>();

function templateFor(
  identity: SigningIdentity,
  hash: HashName,
  scheme: SignatureScheme,
): SignerTemplate {
  let byKey = templates.get(identity);
  if (!byKey) templates.set(identity, (byKey = new Map()));
  const key = `${hash}/${scheme}`;
  let t = byKey.get(key);
  if (!t) {
    const certs = [identity.certificate, ...identity.chain].map((c) => c.der);
    t = {
      version: integer(1),
      digestAlgorithms: setOf([digestAlgorithm(hash)]),
      digestAlgorithm: digestAlgorithm(hash),
      certificates: tlv(0xa0, ...[...certs].sort(Buffer.compare)),
      sid: seq(identity.certificate.issuerDer, identity.certificate.serialDer),
      signatureAlgorithm: signatureAlgorithm(scheme, hash),
      fixedAttributes: [
        attribute(OID.contentType, oid(OID.data)),
        attribute(OID.smimeCapabilities, CAPABILITIES),
        attribute(OID.signingCertificateV2, signingCertificateV2(identity)),
      ],
    };
    byKey.set(key, t);
  }
  return t;
}

export interface SignedDataOptions {
  hash: HashName;
  scheme: SignatureScheme;
  /** The signingTime attribute; none when undefined. */
  signingTime?: Date;
  /** Embed the content (opaque signing) instead of leaving it detached. */
  encapsulate: boolean;
  /** The content digest, when the caller has it already. */
  digest?: Buffer;
}

/** Build a DER ContentInfo holding SignedData over `content` (given in one or more pieces). */
export async function buildSignedData(
  content: Buffer[],
  identity: SigningIdentity,
  options: SignedDataOptions,
): Promise<Buffer> {
  const t = templateFor(identity, options.hash, options.scheme);
  let digest = options.digest;
  if (!digest) {
    const h = crypto.createHash(options.hash);
    for (const piece of content) h.update(piece);
    digest = h.digest();
  }
  const attributes = [...t.fixedAttributes, seq(MESSAGE_DIGEST_OID, tlv(TAG.SET, octets(digest)))];
  if (options.signingTime) {
    attributes.push(seq(SIGNING_TIME_OID, tlv(TAG.SET, time(options.signingTime))));
  }
  attributes.sort(Buffer.compare); // DER SET OF order (RFC 8551 §2.5; X.690 §11.6)
  const signedAttrs = encodeDer(node(TAG.SET, ...attributes));
  const signature = await identity.signer.sign(options.hash, options.scheme, signedAttrs);
  const signerInfo = node(
    TAG.SEQUENCE,
    t.version,
    t.sid,
    t.digestAlgorithm,
    node(0xa0, ...attributes),
    t.signatureAlgorithm,
    node(TAG.OCTET_STRING, signature),
  );
  const encapContentInfo = options.encapsulate
    ? node(TAG.SEQUENCE, DATA_OID, node(0xa0, node(TAG.OCTET_STRING, ...content)))
    : DETACHED_ENCAP;
  const signedData = node(
    TAG.SEQUENCE,
    t.version,
    t.digestAlgorithms,
    encapContentInfo,
    t.certificates,
    node(TAG.SET, signerInfo),
  );
  return encodeDer(node(TAG.SEQUENCE, SIGNED_DATA_OID, node(0xa0, signedData)));
}
