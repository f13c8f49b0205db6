/**
 * An independent reader for the CMS the engine produces: asn1js does the BER/DER parsing, this
 * file only names the pieces (RFC 5652 §5). It shares no code with src/ on purpose.
 */
import * as asn1js from 'asn1js';
import { splitSignedMessage } from '../helpers/verifiers';

export type TagClass = 'universal' | 'application' | 'context' | 'private';
const CLASSES: TagClass[] = ['universal', 'application', 'context', 'private'];

/** One TLV of the parsed tree, with its exact bytes and its offset in the whole DER. */
export interface Asn1Node {
  cls: TagClass;
  tag: number;
  constructed: boolean;
  /** Whole encoding (tag, length, content). */
  der: Buffer;
  /** Content octets only. */
  content: Buffer;
  /** Offset of the tag byte in the buffer given to {@link parseDer}. */
  offset: number;
  /** Offset of the first content byte in that buffer. */
  contentOffset: number;
  /** Length of the content field was written in the indefinite form (forbidden in DER). */
  indefinite: boolean;
  children: Asn1Node[];
}

function convert(block: asn1js.BaseBlock, offset: number, whole: Buffer): Asn1Node {
  const headerLength = block.idBlock.blockLength + block.lenBlock.blockLength;
  const der = whole.subarray(offset, offset + block.blockLength);
  const node: Asn1Node = {
    cls: CLASSES[block.idBlock.tagClass - 1],
    tag: block.idBlock.tagNumber,
    constructed: block.idBlock.isConstructed,
    der,
    content: der.subarray(headerLength),
    offset,
    contentOffset: offset + headerLength,
    indefinite: block.lenBlock.isIndefiniteForm,
    children: [],
  };
  if (node.constructed) {
    let pos = node.contentOffset;
    for (const c of (block.valueBlock as unknown as { value: asn1js.BaseBlock[] }).value) {
      node.children.push(convert(c, pos, whole));
      pos += c.blockLength;
    }
  }
  return node;
}

/** Parses one complete DER value; throws on errors or trailing bytes. */
export function parseDer(input: Buffer): Asn1Node {
  const whole = Buffer.from(input);
  const res = asn1js.fromBER(new Uint8Array(whole), { copyInput: true });
  if (res.offset === -1 || res.result.error) {
    throw new Error(`not BER: ${res.result.error}`);
  }
  if (res.offset !== whole.length) {
    throw new Error(`${whole.length - res.offset} bytes after the DER value`);
  }
  return convert(res.result as asn1js.BaseBlock, 0, whole);
}

/** Dotted OID string of an OBJECT IDENTIFIER node. */
export function oidOf(node: Asn1Node): string {
  if (node.cls !== 'universal' || node.tag !== 6) {
    throw new Error(`expected an OID, got ${node.cls} ${node.tag}`);
  }
  const parts: number[] = [];
  let n = 0;
  for (const b of node.content) {
    n = n * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (parts.length === 0) parts.push(n < 80 ? Math.floor(n / 40) : 2, n < 80 ? n % 40 : n - 80);
      else parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

/** Value of a small INTEGER node. */
export function intOf(node: Asn1Node): number {
  if (node.tag !== 2) throw new Error(`expected an INTEGER, got tag ${node.tag}`);
  return node.content.reduce((acc, b) => acc * 256 + b, 0);
}

/** Every node of the tree, depth first. */
export function walk(node: Asn1Node): Asn1Node[] {
  return [node, ...node.children.flatMap(walk)];
}

export interface AttributeView {
  oid: string;
  /** The whole Attribute SEQUENCE as encoded. */
  der: Buffer;
  values: Asn1Node[];
}

export interface SignerInfoView {
  node: Asn1Node;
  version: number;
  sid: Asn1Node;
  digestAlgorithm: Asn1Node;
  /** The [0] IMPLICIT signedAttrs node. */
  signedAttrsNode: Asn1Node;
  signedAttrs: AttributeView[];
  signatureAlgorithm: Asn1Node;
  signature: Asn1Node;
  unsignedAttrs?: Asn1Node;
}

export interface CmsView {
  der: Buffer;
  root: Asn1Node;
  contentType: string;
  version: number;
  digestAlgorithms: Asn1Node[];
  eContentType: string;
  /** Absent for detached signatures. */
  eContent?: Buffer;
  /** Every certificate, in encoded order. */
  certificates: Buffer[];
  crls?: Asn1Node;
  signerInfos: SignerInfoView[];
}

const isContext = (n: Asn1Node, tag: number): boolean => n.cls === 'context' && n.tag === tag;

function readSignerInfo(node: Asn1Node): SignerInfoView {
  const [version, sid, digestAlgorithm, signedAttrsNode, signatureAlgorithm, signature, rest] =
    node.children;
  if (!isContext(signedAttrsNode, 0)) throw new Error('SignerInfo has no signedAttrs');
  return {
    node,
    version: intOf(version),
    sid,
    digestAlgorithm,
    signedAttrsNode,
    signedAttrs: signedAttrsNode.children.map((a) => ({
      oid: oidOf(a.children[0]),
      der: a.der,
      values: a.children[1].children,
    })),
    signatureAlgorithm,
    signature,
    ...(rest && { unsignedAttrs: rest }),
  };
}

/** Reads a DER ContentInfo holding SignedData. */
export function readCms(der: Buffer): CmsView {
  const root = parseDer(der);
  const [contentType, explicit] = root.children;
  const sd = explicit.children[0];
  const [version, digestAlgorithms, encap, ...rest] = sd.children;
  const signerInfos = rest[rest.length - 1];
  const certs = rest.find((n) => isContext(n, 0));
  const crls = rest.find((n) => isContext(n, 1));
  const eContent = encap.children[1];
  return {
    der,
    root,
    contentType: oidOf(contentType),
    version: intOf(version),
    digestAlgorithms: digestAlgorithms.children,
    eContentType: oidOf(encap.children[0]),
    ...(eContent && { eContent: eContent.children[0].content }),
    certificates: certs ? certs.children.map((c) => c.der) : [],
    ...(crls && { crls }),
    signerInfos: signerInfos.children.map(readSignerInfo),
  };
}

/** The CMS DER of a signed message (the smime.p7s part, or the opaque body). */
export function cmsOfMessage(msg: Buffer): Buffer {
  const parts = splitSignedMessage(msg);
  return parts.kind === 'detached' ? parts.signature : parts.der;
}

/** Reads the CMS of a signed message. */
export function readMessageCms(msg: Buffer): CmsView {
  return readCms(cmsOfMessage(msg));
}

export const OIDS = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  smimeCapabilities: '1.2.840.113549.1.9.15',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;

type Hash = 'sha256' | 'sha384' | 'sha512';
/** Digest name → OID (RFC 5754). */
export const HASH_OID: Record<Hash, string> = {
  sha256: OIDS.sha256,
  sha384: OIDS.sha384,
  sha512: OIDS.sha512,
};
export const HASH_BYTES: Record<Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };
/** ecdsa-with-SHA* (RFC 5758 §3.2). */
export const ECDSA_OID: Record<Hash, string> = {
  sha256: OIDS.ecdsaWithSha256,
  sha384: OIDS.ecdsaWithSha384,
  sha512: OIDS.ecdsaWithSha512,
};
/** rsaEncryption or sha*WithRSAEncryption: what RFC 3370 / RFC 5754 allow for PKCS#1 v1.5. */
export const RSA_PKCS1_OIDS = new Set([
  OIDS.rsaEncryption,
  '1.2.840.113549.1.1.11',
  '1.2.840.113549.1.1.12',
  '1.2.840.113549.1.1.13',
]);

/** The issuer Name and serialNumber INTEGER TLVs of a DER certificate. */
export function issuerAndSerial(certDer: Buffer): { issuer: Buffer; serial: Buffer } {
  const tbs = parseDer(certDer).children[0].children;
  const fields = tbs[0].cls === 'context' ? tbs.slice(1) : tbs;
  return { serial: fields[0].der, issuer: fields[2].der };
}

/** UTCTime text of an instant, seconds precision (RFC 5280 §4.1.2.5.1: YYMMDDHHMMSSZ). */
export const utcTime = (d: Date): string =>
  d.toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z');

/** Digest OID → name. */
export const DIGEST_NAMES: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  [OIDS.sha256]: 'sha256',
  [OIDS.sha384]: 'sha384',
  [OIDS.sha512]: 'sha512',
};
