/**
 * DKIM signing (RFC 6376) with relaxed/relaxed canonicalisation, over the final message the
 * relay hands to the transport. rsa-sha256, or ed25519-sha256 (RFC 8463: Ed25519 over the
 * SHA-256 digest of the canonical header data).
 *
 * The message is split once; the body is canonicalised in one pass over its bytes straight
 * into the hash (no string copy of the body), and the private-key operation runs on libuv's
 * thread pool, off the event loop.
 */
import { createHash, sign, type Hash, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { readHeader, type HeaderFieldAt } from '../plugin/header-reader';

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

export interface DkimSigningKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  privateKey: KeyObject;
}

/** The fields the signature covers, in this order, when the message has them. */
export const SIGNED_FIELDS = [
  'From',
  'To',
  'Subject',
  'Date',
  'Message-ID',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
  'MIME-Version',
  'Content-Type',
];

const MAX_LINE = 78;

interface SplitMessage {
  fields: HeaderFieldAt[];
  body: Buffer;
  /** Whether the header uses CRLF line breaks (else bare LF). */
  crlf: boolean;
}

/** Header fields and body of a message (the one header reader); the body stays bytes. */
function splitMessage(raw: Buffer): SplitMessage {
  const header = readHeader(raw);
  return { fields: header.fields, body: raw.subarray(header.bodyStart), crlf: header.crlf };
}

/** RFC 6376 §3.4.2: lowercase name, unfolded value, whitespace runs as one space. */
export function relaxedHeader(field: string): string {
  const colon = field.indexOf(':');
  const name = field.slice(0, colon).trim().toLowerCase();
  const value = field
    .slice(colon + 1)
    .replace(/\r?\n(?=[ \t])/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim();
  return `${name}:${value}`;
}

const SP = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const CHUNK = 16 * 1024;

/**
 * RFC 6376 §3.4.4 in one pass, written to `out` in chunks: no trailing whitespace, every
 * whitespace run as one space, CRLF line breaks (a bare LF counts as one), no empty lines
 * at the end, and a final CRLF after a non-empty body.
 */
function relaxedBodyInto(body: Buffer, out: (chunk: Buffer) => void): void {
  const buf = Buffer.allocUnsafe(CHUNK);
  let n = 0;
  let space = false; // whitespace seen since the last character of the line
  let content = false; // the line has a character other than whitespace
  let emptyLines = 0; // empty lines held back: written only if more content follows
  const len = body.length;
  for (let i = 0; i < len; i++) {
    // Room for what one input byte writes at most: a space and the byte, or a CRLF.
    if (n > CHUNK - 2) {
      out(buf.subarray(0, n));
      n = 0;
    }
    const c = body[i];
    if (c === SP || c === TAB) {
      space = true;
    } else if (c === LF || (c === CR && body[i + 1] === LF)) {
      if (c === CR) i++;
      if (content) {
        buf[n++] = CR;
        buf[n++] = LF;
      } else emptyLines++;
      space = false;
      content = false;
    } else {
      for (; emptyLines > 0; emptyLines--) {
        if (n > CHUNK - 2) {
          out(buf.subarray(0, n));
          n = 0;
        }
        buf[n++] = CR;
        buf[n++] = LF;
      }
      if (n > CHUNK - 2) {
        out(buf.subarray(0, n));
        n = 0;
      }
      if (space) buf[n++] = SP;
      buf[n++] = c;
      space = false;
      content = true;
    }
  }
  if (n > CHUNK - 2) {
    out(buf.subarray(0, n));
    n = 0;
  }
  if (content) {
    buf[n++] = CR;
    buf[n++] = LF;
  }
  if (n > 0) out(buf.subarray(0, n));
}

/** The relaxed body canonical form (RFC 6376 §3.4.4), as bytes. */
export function relaxedBody(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  relaxedBodyInto(body, (chunk) => parts.push(Buffer.from(chunk)));
  return Buffer.concat(parts);
}

/** The base64 SHA-256 of the relaxed body, hashed as it is canonicalised. */
export function relaxedBodyHash(body: Buffer): string {
  const hash: Hash = createHash('sha256');
  relaxedBodyInto(body, (chunk) => hash.update(chunk));
  return hash.digest('base64');
}

/** The tags as a folded field, each line under {@link MAX_LINE} columns where possible. */
function foldTags(tags: [string, string][], breakAt: Record<string, string>): string {
  const lines: string[] = ['DKIM-Signature:'];
  const put = (piece: string, glue: string) => {
    const last = lines[lines.length - 1];
    if (last.length + glue.length + piece.length <= MAX_LINE)
      lines[lines.length - 1] += glue + piece;
    else lines.push(` ${piece}`);
  };
  tags.forEach(([tag, value], i) => {
    const end = i < tags.length - 1 ? ';' : '';
    const separator = breakAt[tag];
    if (!separator) return put(`${tag}=${value}${end}`, ' ');
    // A long value breaks where the tag allows folding whitespace: after a colon in h=,
    // anywhere in a base64 value.
    const parts =
      separator === ':'
        ? value.split(':').map((p, j, all) => (j < all.length - 1 ? `${p}:` : p))
        : (value.match(/.{1,60}/g) ?? ['']);
    parts.forEach((p, j) => {
      const piece = (j === 0 ? `${tag}=` : '') + p + (j === parts.length - 1 ? end : '');
      put(piece, j === 0 ? ' ' : '');
    });
  });
  return lines.join('\r\n');
}

const signAsync = promisify(sign);

/**
 * The folded DKIM-Signature field for the split message, without its final line break.
 * Covers the {@link SIGNED_FIELDS} the message has (the last instance of each, as verifiers
 * pick them), except those in `omit`: fields the delivery path replaces in transit.
 */
async function signatureField(
  { fields, body }: SplitMessage,
  key: DkimSigningKey,
  now: Date,
  omit: readonly string[],
): Promise<string> {
  const covered: HeaderFieldAt[] = [];
  const skip = new Set(omit.map((n) => n.toLowerCase()));
  for (const name of SIGNED_FIELDS) {
    if (skip.has(name.toLowerCase())) continue;
    const found = fields.filter((f) => f.name === name.toLowerCase()).pop();
    if (found) covered.push(found);
  }
  const tags: [string, string][] = [
    ['v', '1'],
    ['a', key.algorithm],
    ['c', 'relaxed/relaxed'],
    ['d', key.domain],
    ['s', key.selector],
    ['t', String(Math.floor(now.getTime() / 1000))],
    ['h', covered.map((f) => f.name.toLowerCase()).join(':')],
    ['bh', relaxedBodyHash(body)],
  ];
  const unsigned = foldTags([...tags, ['b', '']], { h: ':', bh: 'base64' });
  const data = Buffer.from(
    [...covered.map((f) => `${relaxedHeader(f.text)}\r\n`), relaxedHeader(unsigned)].join(''),
    'latin1',
  );
  // On the thread pool: an RSA-2048 signature is about 1 ms of CPU per message.
  const b =
    key.algorithm === 'rsa-sha256'
      ? await signAsync('sha256', data, key.privateKey)
      : await signAsync(null, createHash('sha256').update(data).digest(), key.privateKey);
  return foldTags([...tags, ['b', b.toString('base64')]], { h: ':', bh: 'base64', b: 'base64' });
}

/** `raw` with a DKIM-Signature field in front, in the message's own line-break style. */
export async function dkimSign(
  raw: Buffer,
  key: DkimSigningKey,
  now = new Date(),
  omit: readonly string[] = [],
): Promise<Buffer> {
  const split = splitMessage(raw);
  const field = await signatureField(split, key, now, omit);
  const line = split.crlf ? `${field}\r\n` : `${field.replace(/\r\n/g, '\n')}\n`;
  return Buffer.concat([Buffer.from(line, 'latin1'), raw]);
}

/**
 * Whether a From domain and a DKIM domain align. DMARC's relaxed alignment asks for the same
 * organizational domain, which needs the public suffix list; this approximation treats the
 * domains as aligned when they are equal or one is a subdomain of the other.
 */
export function domainsAlign(fromDomain: string, dkimDomain: string): boolean {
  const a = fromDomain.toLowerCase().replace(/\.$/, '');
  const b = dkimDomain.toLowerCase().replace(/\.$/, '');
  return a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);
}

/** The domain of an address ("news@example.com" → "example.com"). */
export const domainOf = (address: string): string =>
  address.slice(address.lastIndexOf('@') + 1).toLowerCase();
