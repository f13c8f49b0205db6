/**
 * A read-only view of BER (PKCS#12 files and received signatures may use indefinite
 * lengths and constructed strings), built on asn1js.
 */
import * as asn1js from 'asn1js';
import { decodeOid } from './der';

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

function convert(block: asn1js.AsnType, source: Buffer): BerNode {
  const base = block as asn1js.BaseBlock;
  const id = base.idBlock;
  const value = base.valueBlock as unknown as { value?: unknown; valueHexView?: Uint8Array };
  const children = Array.isArray(value.value)
    ? (value.value as asn1js.AsnType[]).map((c) => convert(c, source))
    : [];
  let content: Buffer;
  if (block instanceof asn1js.ObjectIdentifier) {
    content = Buffer.from(block.valueBlock.toBER(false));
  } else if (id.isConstructed) {
    content = Buffer.concat(children.map((c) => c.content));
  } else {
    content = Buffer.from(value.valueHexView ?? new Uint8Array());
  }
  const start = base.valueBeforeDecodeView;
  return {
    cls: CLASS[id.tagClass] ?? 0,
    tag: id.tagNumber,
    constructed: id.isConstructed,
    children,
    content,
    encoded: Buffer.from(start.buffer, start.byteOffset, start.byteLength),
  };
}

export class BerError extends Error {}

export function parseBer(buf: Buffer): BerNode {
  const view = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const parsed = asn1js.fromBER(view);
  if (parsed.offset === -1 || parsed.result.error) {
    throw new BerError(parsed.result.error || 'not BER');
  }
  return convert(parsed.result, buf);
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
  let v = 0;
  for (const b of n.content) v = v * 256 + b;
  return v;
}

/** The first child with context-specific tag [n], if any. */
export const contextChild = (n: BerNode, tag: number): BerNode | undefined =>
  n.children.find((c) => c.cls === 2 && c.tag === tag);
