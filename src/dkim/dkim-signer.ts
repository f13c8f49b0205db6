/**
 * DKIM signing (RFC 6376) with relaxed/relaxed canonicalisation, over the final message the
 * relay hands to the transport. rsa-sha256, or ed25519-sha256 (RFC 8463: Ed25519 over the
 * SHA-256 digest of the canonical header data).
 */
import { createHash, sign, type KeyObject } from 'node:crypto';

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

interface HeaderField {
  name: string;
  /** The whole field as it stands, folding included, without its final line break. */
  text: string;
}

/** Header fields and body of a message; the header ends at the first empty line. */
function splitMessage(raw: Buffer): { fields: HeaderField[]; body: Buffer; crlf: boolean } {
  const text = raw.toString('latin1');
  const end = /\r?\n\r?\n/.exec(text);
  const header = end ? text.slice(0, end.index) : text;
  const body = end ? raw.subarray(end.index + end[0].length) : Buffer.alloc(0);
  const fields: HeaderField[] = [];
  for (const line of header.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) {
      fields[fields.length - 1].text += `\r\n${line}`;
    } else if (line.length > 0) {
      const colon = line.indexOf(':');
      fields.push({ name: colon > 0 ? line.slice(0, colon).trim() : line, text: line });
    }
  }
  return { fields, body, crlf: header.includes('\r\n') || !header.includes('\n') };
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

/** RFC 6376 §3.4.4: no trailing whitespace, whitespace runs as one space, no empty lines at the end. */
export function relaxedBody(body: Buffer): Buffer {
  const lines = body
    .toString('latin1')
    .split(/\r?\n/)
    .map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return Buffer.from(lines.length ? `${lines.join('\r\n')}\r\n` : '', 'latin1');
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

/**
 * The folded DKIM-Signature field for `raw`, without its final line break. Covers the
 * {@link SIGNED_FIELDS} the message has (the last instance of each, as verifiers pick them),
 * except those in `omit`: fields the delivery path replaces in transit.
 */
export function dkimSignatureField(
  raw: Buffer,
  key: DkimSigningKey,
  now = new Date(),
  omit: readonly string[] = [],
): string {
  const { fields, body } = splitMessage(raw);
  const covered: HeaderField[] = [];
  const skip = new Set(omit.map((n) => n.toLowerCase()));
  for (const name of SIGNED_FIELDS) {
    if (skip.has(name.toLowerCase())) continue;
    const found = fields.filter((f) => f.name.toLowerCase() === name.toLowerCase()).pop();
    if (found) covered.push(found);
  }
  const bh = createHash('sha256').update(relaxedBody(body)).digest('base64');
  const tags: [string, string][] = [
    ['v', '1'],
    ['a', key.algorithm],
    ['c', 'relaxed/relaxed'],
    ['d', key.domain],
    ['s', key.selector],
    ['t', String(Math.floor(now.getTime() / 1000))],
    ['h', covered.map((f) => f.name.toLowerCase()).join(':')],
    ['bh', bh],
  ];
  const unsigned = foldTags([...tags, ['b', '']], { h: ':', bh: 'base64' });
  const data = Buffer.from(
    [...covered.map((f) => `${relaxedHeader(f.text)}\r\n`), relaxedHeader(unsigned)].join(''),
    'latin1',
  );
  const b =
    key.algorithm === 'rsa-sha256'
      ? sign('sha256', data, key.privateKey)
      : sign(null, createHash('sha256').update(data).digest(), key.privateKey);
  return foldTags([...tags, ['b', b.toString('base64')]], { h: ':', bh: 'base64', b: 'base64' });
}

/** `raw` with a DKIM-Signature field in front, in the message's own line-break style. */
export function dkimSign(
  raw: Buffer,
  key: DkimSigningKey,
  now = new Date(),
  omit: readonly string[] = [],
): Buffer {
  const field = dkimSignatureField(raw, key, now, omit);
  const { crlf } = splitMessage(raw);
  const line = crlf ? `${field}\r\n` : `${field.replace(/\r\n/g, '\n')}\n`;
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
