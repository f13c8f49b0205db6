/**
 * A small DER encoder and reader. The signing hot path assembles CMS by hand from
 * pre-encoded pieces, so it needs only lengths, tags and concatenation.
 */

export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function lengthBytes(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Encode one TLV with the given tag byte around already-encoded content. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = content.length === 1 ? content[0] : Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const seq = (...items: Buffer[]): Buffer => tlv(TAG.SEQUENCE, ...items);
export const octets = (b: Buffer): Buffer => tlv(TAG.OCTET_STRING, b);
export const nullValue = (): Buffer => Buffer.from([TAG.NULL, 0]);
/** Context-specific constructed tag [n]. */
export const explicit = (n: number, ...items: Buffer[]): Buffer => tlv(0xa0 | n, ...items);

export function integer(value: number): Buffer {
  const bytes: number[] = [];
  let n = value;
  do {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  } while (n > 0);
  if (bytes[0] & 0x80) bytes.unshift(0);
  return tlv(TAG.INTEGER, Buffer.from(bytes));
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [parts[0] * 40 + parts[1]];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let n = Math.floor(part / 128); n > 0; n = Math.floor(n / 128)) {
      chunk.unshift((n & 0x7f) | 0x80);
    }
    out.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

export function decodeOid(content: Buffer): string {
  const parts: number[] = [];
  let n = 0;
  for (let i = 0; i < content.length; i++) {
    n = n * 128 + (content[i] & 0x7f);
    if ((content[i] & 0x80) === 0) {
      if (parts.length === 0) {
        const first = n < 80 ? Math.floor(n / 40) : 2;
        parts.push(first, n - first * 40);
      } else parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5652 §11.3). */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const year = date.getUTCFullYear();
  const rest = iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16);
  const secs = iso.slice(17, 19);
  if (year >= 1950 && year < 2050) {
    return tlv(TAG.UTC_TIME, Buffer.from(`${iso.slice(2, 4)}${rest}${secs}Z`, 'latin1'));
  }
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(`${iso.slice(0, 4)}${rest}${secs}Z`, 'latin1'));
}

/**
 * DER SET OF: the encodings sorted as octet strings (X.690 §11.6). A shorter encoding
 * that is a prefix of a longer one sorts first, which Buffer.compare does.
 */
export function setOf(items: Buffer[]): Buffer {
  return tlv(TAG.SET, ...[...items].sort(Buffer.compare));
}

/** Parse UTCTime or GeneralizedTime text (seconds optional, "Z" required); undefined if neither. */
export function parseTime(text: string): Date | undefined {
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(text);
  if (!m) return undefined;
  let year = Number(m[1]);
  if (m[1].length === 2) year += year < 50 ? 2000 : 1900;
  return new Date(
    Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)),
  );
}

/** A parsed TLV: where it sits in its buffer, without copying. */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the content. */
  end: number;
}

export class DerError extends Error {}

/** Read the TLV at `offset` (definite lengths only, as DER requires). */
export function readTlv(buf: Buffer, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated DER');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let pos = offset + 1;
  let len = buf[pos++];
  if (len & 0x80) {
    const count = len & 0x7f;
    if (count === 0 || count > 4) throw new DerError('unsupported DER length');
    len = 0;
    for (let i = 0; i < count; i++) {
      if (pos >= limit) throw new DerError('truncated DER');
      len = len * 256 + buf[pos++];
    }
  }
  if (pos + len > limit) throw new DerError('truncated DER');
  return { tag, start: offset, contentStart: pos, end: pos + len };
}

/** The TLVs directly inside a constructed TLV. */
export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.contentStart; pos < parent.end;) {
    const child = readTlv(buf, pos, parent.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

export const bytesOf = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.start, t.end);
export const contentOf = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.contentStart, t.end);

/**
 * A DER value to be written in one pass: a finished encoding, or a tag around children.
 * Nesting nodes instead of Buffers avoids copying the inner bytes once per level.
 */
export type DerNode = Buffer | { tag: number; children: DerNode[]; contentLength?: number };

export const node = (tag: number, ...children: DerNode[]): DerNode => ({ tag, children });

const lengthOfLength = (len: number): number =>
  len < 0x80 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : len < 0x1000000 ? 4 : 5;

function measure(n: DerNode): number {
  if (Buffer.isBuffer(n)) return n.length;
  let len = 0;
  for (const c of n.children) len += measure(c);
  n.contentLength = len;
  return 1 + lengthOfLength(len) + len;
}

function write(n: DerNode, out: Buffer, pos: number): number {
  if (Buffer.isBuffer(n)) return pos + n.copy(out, pos);
  const len = n.contentLength ?? 0;
  out[pos++] = n.tag;
  const ll = lengthOfLength(len);
  if (ll === 1) out[pos++] = len;
  else {
    out[pos++] = 0x80 | (ll - 1);
    for (let i = ll - 2; i >= 0; i--) out[pos++] = (len >>> (8 * i)) & 0xff;
  }
  for (const c of n.children) pos = write(c, out, pos);
  return pos;
}

/** Encode a DerNode tree into one Buffer. */
export function encodeDer(n: DerNode): Buffer {
  const out = Buffer.allocUnsafe(measure(n));
  write(n, out, 0);
  return out;
}
