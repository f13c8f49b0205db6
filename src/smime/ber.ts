/**
 * A read-only view of BER (PKCS#12 files and received signatures may use indefinite
 * lengths and constructed strings), built on asn1js.
 */
import * as asn1js from 'asn1js';
import { contentOf, decodeOid, readTlv } from './der';

export interface BerNode {
  /** 0 universal, 2 context-specific (matching X.690 class bits >> 6). */
  cls: number;
  tag: number;
  constructed: boolean;
  children: BerNode[];
  /** Content octets; for a constructed string, its segments joined. */
  content: Buffer;
  /** The node as it was encoded, from its first identifier octet. */
  encoded: Buffer;
}

const CLASS: Record<number, number> = { 1: 0, 2: 1, 3: 2, 4: 3 };

function convert(block: asn1js.AsnType): BerNode {
  const base = block as asn1js.BaseBlock;
  const id = base.idBlock;
  const view = base.valueBeforeDecodeView;
  const encoded = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  const value = (base.valueBlock ?? {}) as unknown as {
    value?: unknown;
    valueHexView?: Uint8Array;
  };
  const children =
    id.isConstructed && Array.isArray(value.value)
      ? (value.value as asn1js.AsnType[]).map(convert)
      : [];
  let content: Buffer;
  if (id.isConstructed) content = Buffer.concat(children.map((c) => c.content));
  else {
    try {
      content = contentOf(encoded, readTlv(encoded, 0));
    } catch {
      content = Buffer.from(value.valueHexView ?? new Uint8Array());
    }
  }
  return {
    cls: CLASS[id.tagClass] ?? 0,
    tag: id.tagNumber,
    constructed: id.isConstructed,
    children,
    content,
    encoded,
  };
}

export class BerError extends Error {}

export function parseBer(buf: Buffer): BerNode {
  const view = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const parsed = asn1js.fromBER(view);
  if (parsed.offset === -1 || parsed.result.error) {
    throw new BerError(parsed.result.error || 'not BER');
  }
  return convert(parsed.result);
}

export const oidOf = (n: BerNode | undefined): string => {
  if (!n || n.cls !== 0 || n.tag !== 6) throw new BerError('expected an object identifier');
  return decodeOid(n.content);
};

export function child(n: BerNode | undefined, i: number): BerNode {
  const c = n?.children[i];
  if (!c) throw new BerError('structure is shorter than expected');
  return c;
}

export function intOf(n: BerNode | undefined): number {
  if (!n || n.tag !== 2) throw new BerError('expected an integer');
  if (n.content.length > 4) throw new BerError('integer too large');
  let v = 0;
  for (const b of n.content) v = v * 256 + b;
  return v;
}

/** The first child with context-specific tag [n], if any. */
export const contextChild = (n: BerNode, tag: number): BerNode | undefined =>
  n.children.find((c) => c.cls === 2 && c.tag === tag);
