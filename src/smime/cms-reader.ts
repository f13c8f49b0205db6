/**
 * Reads a received CMS SignedData (BER tolerated) into what verification needs.
 */
import { child, contextChild, oidOf, parseBer, type BerNode } from './ber';
import { OID } from './algorithms';

export interface SignerInfoView {
  sid: { issuerAndSerial?: { issuer: Buffer; serial: Buffer }; subjectKeyIdentifier?: Buffer };
  digestAlgorithm: string;
  /** The signed attributes re-tagged as a SET, which is what was signed. */
  signedAttributesDer?: Buffer;
  attributes: Map<string, BerNode[]>;
  signatureAlgorithm: BerNode;
  signature: Buffer;
}

export interface SignedDataView {
  eContentType: string;
  eContent?: Buffer;
  certificates: Buffer[];
  signers: SignerInfoView[];
}

function readSignerInfo(node: BerNode): SignerInfoView {
  let i = 1;
  const sidNode = child(node, i++);
  const sid: SignerInfoView['sid'] =
    sidNode.cls === 2
      ? { subjectKeyIdentifier: sidNode.content }
      : {
          issuerAndSerial: { issuer: child(sidNode, 0).encoded, serial: child(sidNode, 1).encoded },
        };
  const digestAlgorithm = oidOf(child(child(node, i++), 0));
  const attributes = new Map<string, BerNode[]>();
  let signedAttributesDer: Buffer | undefined;
  let next = child(node, i);
  if (next.cls === 2 && next.tag === 0) {
    signedAttributesDer = Buffer.from(next.encoded);
    signedAttributesDer[0] = 0x31; // [0] IMPLICIT SET OF → SET OF (RFC 5652 §5.4)
    for (const attr of next.children)
      attributes.set(oidOf(child(attr, 0)), child(attr, 1).children);
    next = child(node, ++i);
  }
  const signatureAlgorithm = next;
  const signature = child(node, i + 1).content;
  return { sid, digestAlgorithm, signedAttributesDer, attributes, signatureAlgorithm, signature };
}

/** Parse a ContentInfo holding SignedData; throws on anything else. */
export function readSignedData(der: Buffer): SignedDataView {
  const contentInfo = parseBer(der);
  if (oidOf(child(contentInfo, 0)) !== OID.signedData) throw new Error('not SignedData');
  const sd = child(child(contentInfo, 1), 0);
  const encap = child(sd, 2);
  const eContentNode = contextChild(encap, 0);
  const certsNode = sd.children.find((c) => c.cls === 2 && c.tag === 0);
  const signerInfos = sd.children[sd.children.length - 1];
  return {
    eContentType: oidOf(child(encap, 0)),
    eContent: eContentNode ? child(eContentNode, 0).content : undefined,
    certificates: (certsNode?.children ?? [])
      .filter((c) => c.cls === 0 && c.tag === 16)
      .map((c) => c.encoded),
    signers: signerInfos.children.map(readSignerInfo),
  };
}
