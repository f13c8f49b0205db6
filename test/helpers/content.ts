// An independent checker for the signing engine's output: it shares no code with src/.
// Content is decoded with mailparser; header blocks and the MIME outline are read by the small
// raw parsers below, which work on bytes (latin1 strings) so nothing is lost or reinterpreted.
import { AssertionError } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { simpleParser, type Attachment, type StructuredHeader } from 'mailparser';

export interface DecodedAttachment {
  /** mailparser's IMAP-style part number ("2", "1.2"), null for a non-multipart message. */
  partId: string | null;
  contentType: string;
  /** The charset parameter of the part's Content-Type, as written. */
  charset?: string;
  filename?: string;
  /** Content-ID with angle brackets. */
  contentId?: string;
  /** Content-ID without angle brackets (what `cid:` URLs reference). */
  cid?: string;
  contentDisposition?: string;
  /** True when the part has a Content-ID and sits inside multipart/related. */
  related: boolean;
  /** Content-Transfer-Encoding of the part, lower case. */
  transferEncoding?: string;
  size: number;
  sha256: string;
  /** sha256 of the content with every CRLF turned into LF (for text sent in 7bit/8bit/QP). */
  lineNormalizedSha256: string;
}

/** One entity of the MIME tree, read from the raw bytes. Paths are IMAP-style, "" is the root. */
export interface MimePartSummary {
  path: string;
  /** Lower-case type/subtype; the RFC 2045 default (text/plain) when there is no Content-Type. */
  contentType: string;
  charset?: string;
  /** Disposition type, lower case. */
  disposition?: string;
  transferEncoding?: string;
}

export interface DecodedContent {
  subject?: string;
  /** All text/plain parts joined by "\n", line endings normalised to LF. */
  text?: string;
  /** All text/html parts joined by "<br/>\n", cid: links untouched, line endings normalised to LF. */
  html?: string;
  /** Every non-inline-text part in document order. */
  attachments: DecodedAttachment[];
  /** Every entity (multipart and leaf) in document order. */
  parts: MimePartSummary[];
}

export interface HeaderFieldText {
  /** Field name as written. */
  name: string;
  /** The whole field, folding included, line endings normalised to CRLF, no final CRLF. */
  raw: string;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const normalizeEol = (s: string): string => s.replace(/\r\n/g, '\n');

/** Splits raw bytes (as a latin1 string) into header block and body at the first empty line. */
function splitEntity(raw: string): { header: string; body: string } {
  let pos = 0;
  while (pos < raw.length) {
    const nl = raw.indexOf('\n', pos);
    const end = nl < 0 ? raw.length : nl;
    const line = raw.slice(pos, end).replace(/\r$/, '');
    if (line === '') return { header: raw.slice(0, pos), body: nl < 0 ? '' : raw.slice(nl + 1) };
    if (nl < 0) break;
    pos = nl + 1;
  }
  return { header: raw, body: '' };
}

function fieldsOf(header: string): HeaderFieldText[] {
  const fields: HeaderFieldText[] = [];
  const lines = header.replace(/\r?\n/g, '\r\n').split('\r\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (/^[ \t]/.test(line) && fields.length) fields[fields.length - 1].raw += '\r\n' + line;
    else fields.push({ name: line.split(':')[0].trim(), raw: line });
  }
  return fields;
}

/** The top-level header fields of a message, in order. */
export function headerFields(raw: Buffer): HeaderFieldText[] {
  return fieldsOf(splitEntity(raw.toString('latin1')).header);
}

function fieldValue(fields: HeaderFieldText[], name: string): string | undefined {
  const f = fields.find((x) => x.name.toLowerCase() === name);
  return f?.raw
    .slice(f.raw.indexOf(':') + 1)
    .replace(/\r\n/g, '')
    .trim();
}

function parseValue(value: string): { value: string; params: Record<string, string> } {
  const semi = value.indexOf(';');
  const main = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  const params: Record<string, string> = {};
  const re = /;\s*([^=\s;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/g;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    params[m[1].toLowerCase()] = m[2].startsWith('"')
      ? m[2].slice(1, -1).replace(/\\(.)/g, '$1')
      : m[2];
  }
  return { value: main, params };
}

function outlineOf(raw: string, path: string, parentType: string, out: MimePartSummary[]): void {
  const { header, body } = splitEntity(raw);
  const fields = fieldsOf(header);
  const ct = parseValue(fieldValue(fields, 'content-type') ?? '');
  const contentType = ct.value.includes('/')
    ? ct.value
    : parentType === 'multipart/digest'
      ? 'message/rfc822'
      : 'text/plain';
  const disposition = fieldValue(fields, 'content-disposition');
  const cte = fieldValue(fields, 'content-transfer-encoding');
  out.push({
    path,
    contentType,
    ...(ct.params.charset !== undefined && { charset: ct.params.charset }),
    ...(disposition !== undefined && { disposition: parseValue(disposition).value }),
    ...(cte !== undefined && { transferEncoding: cte.toLowerCase() }),
  });
  const boundary = ct.params.boundary;
  if (!contentType.startsWith('multipart/') || !boundary) return;
  const lines = body.split('\n');
  let offset = 0;
  let start = -1;
  let n = 0;
  for (const line of lines) {
    const bare = line.replace(/\r$/, '').replace(/[ \t]+$/, '');
    if (bare === `--${boundary}` || bare === `--${boundary}--`) {
      if (start >= 0) {
        let part = body.slice(start, Math.max(start, offset - 1));
        if (part.endsWith('\r')) part = part.slice(0, -1);
        outlineOf(part, path ? `${path}.${++n}` : String(++n), contentType, out);
      }
      if (bare.endsWith('--') && bare !== `--${boundary}`) return;
      start = offset + line.length + 1;
    }
    offset += line.length + 1;
  }
}

/** The MIME tree of a message, read from its raw bytes (no decoding). */
export function mimeOutline(raw: Buffer): MimePartSummary[] {
  const out: MimePartSummary[] = [];
  outlineOf(raw.toString('latin1'), '', '', out);
  return out;
}

function describeAttachment(a: Attachment): DecodedAttachment {
  const ct = a.headers.get('content-type') as StructuredHeader | undefined;
  const cte = a.headers.get('content-transfer-encoding');
  return {
    partId: a.partId,
    contentType: a.contentType,
    ...(ct?.params?.charset !== undefined && { charset: ct.params.charset }),
    ...(a.filename !== undefined && { filename: a.filename }),
    ...(a.contentId !== undefined && { contentId: a.contentId }),
    ...(a.cid !== undefined && { cid: a.cid }),
    ...(a.contentDisposition !== undefined && { contentDisposition: a.contentDisposition }),
    related: a.related === true,
    ...(typeof cte === 'string' && { transferEncoding: cte.trim().toLowerCase() }),
    size: a.content.length,
    sha256: sha256(a.content),
    lineNormalizedSha256: sha256(Buffer.from(normalizeEol(a.content.toString('latin1')), 'latin1')),
  };
}

/** Decodes a message with mailparser: text, html and attachments in document order. */
export async function decodedContent(raw: Buffer): Promise<DecodedContent> {
  const mail = await simpleParser(raw, {
    keepCidLinks: true,
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    checksumAlgo: 'sha256',
  });
  return {
    ...(mail.subject !== undefined && { subject: mail.subject }),
    // mailparser reports text '' (not undefined) when the root part is text/html; an empty
    // text/plain part yields no text at all, so '' only ever means "no text/plain part".
    ...(typeof mail.text === 'string' && mail.text !== '' && { text: normalizeEol(mail.text) }),
    ...(typeof mail.html === 'string' && { html: normalizeEol(mail.html) }),
    attachments: mail.attachments.map(describeAttachment),
    parts: mimeOutline(raw),
  };
}

/** Runs `openssl cms -verify -noverify` on an opaque (application/pkcs7-mime) message and returns the eContent. */
export async function extractOpaqueContent(signed: Buffer): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'smime-content-'));
  try {
    const input = join(dir, 'in.eml');
    const output = join(dir, 'out.eml');
    await writeFile(input, signed);
    const args = [
      'cms',
      '-verify',
      '-noverify',
      '-binary',
      '-inform',
      'SMIME',
      '-in',
      input,
      '-out',
      output,
    ];
    try {
      await promisify(execFile)('openssl', args, { maxBuffer: 64 * 1024 * 1024 });
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new Error(`openssl cms -verify failed: ${(err as Error).message}\n${stderr}`, {
        cause: err,
      });
    }
    return await readFile(output);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function stringDiff(
  label: string,
  expected: string | undefined,
  actual: string | undefined,
): string | undefined {
  if (expected === actual) return undefined;
  if (expected === undefined || actual === undefined) {
    return `${label}: expected ${expected === undefined ? 'none' : `${expected.length} chars`}, got ${actual === undefined ? 'none' : `${actual.length} chars`}`;
  }
  let i = 0;
  while (i < expected.length && expected[i] === actual[i]) i++;
  const line = expected.slice(0, i).split('\n').length;
  const around = (s: string): string => JSON.stringify(s.slice(Math.max(0, i - 40), i + 40));
  return (
    `${label} differs at char ${i} (line ${line}; lengths ${expected.length} vs ${actual.length})\n` +
    `    expected: ${around(expected)}\n    actual:   ${around(actual)}`
  );
}

const SIGNATURE_TYPES = new Set(['application/pkcs7-signature', 'application/x-pkcs7-signature']);
const OPAQUE_TYPES = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);

/** Maps a part path of a detached-signed message back to the original's ("1.2" → "2", "1" → root). */
function unwrapPath(path: string | null, root: string | null): string | null {
  if (path === '1') return root;
  return path !== null && path.startsWith('1.') ? path.slice(2) : `<outside entity: ${path}>`;
}

function compareAttachments(
  o: DecodedAttachment[],
  s: DecodedAttachment[],
  problems: string[],
): void {
  if (o.length !== s.length) {
    const names = (l: DecodedAttachment[]): string =>
      l.map((a) => a.filename ?? a.contentType).join(', ');
    problems.push(
      `attachment count: expected ${o.length} [${names(o)}], got ${s.length} [${names(s)}]`,
    );
    return;
  }
  o.forEach((a, i) => {
    const b = s[i];
    const exact = a.transferEncoding === 'base64';
    const keys = [
      'partId',
      'contentType',
      'filename',
      'contentId',
      'cid',
      'contentDisposition',
      'related',
    ] as const;
    for (const k of keys) {
      if (a[k] !== b[k])
        problems.push(
          `attachment #${i + 1} ${k}: expected ${JSON.stringify(a[k])}, got ${JSON.stringify(b[k])}`,
        );
    }
    if (a.charset?.toLowerCase() !== b.charset?.toLowerCase()) {
      problems.push(`attachment #${i + 1} charset: expected ${a.charset}, got ${b.charset}`);
    }
    const [ha, hb] = exact
      ? [a.sha256, b.sha256]
      : [a.lineNormalizedSha256, b.lineNormalizedSha256];
    if (ha !== hb) {
      problems.push(
        `attachment #${i + 1} (${a.filename ?? a.contentType}) content differs: ${a.size} bytes sha256 ${a.sha256.slice(0, 16)}…, got ${b.size} bytes sha256 ${b.sha256.slice(0, 16)}…`,
      );
    }
  });
}

function compareParts(o: MimePartSummary[], s: MimePartSummary[], problems: string[]): void {
  const show = (l: MimePartSummary[]): string =>
    l.map((p) => `${p.path || 'root'}=${p.contentType}`).join(' ');
  if (
    o.length !== s.length ||
    o.some((p, i) => p.path !== s[i].path || p.contentType !== s[i].contentType)
  ) {
    problems.push(`MIME structure differs:\n    expected: ${show(o)}\n    actual:   ${show(s)}`);
    return;
  }
  o.forEach((p, i) => {
    const q = s[i];
    if (p.charset !== undefined && p.charset.toLowerCase() !== q.charset?.toLowerCase()) {
      problems.push(`part ${p.path || 'root'} charset: expected ${p.charset}, got ${q.charset}`);
    }
    if ((p.disposition ?? '') !== (q.disposition ?? '')) {
      problems.push(
        `part ${p.path || 'root'} disposition: expected ${p.disposition}, got ${q.disposition}`,
      );
    }
  });
}

export interface ContentPreservedOptions {
  /** Defaults to what the signed message's Content-Type says. */
  format?: 'detached' | 'opaque';
  /** For opaque: the eContent; extracted with openssl when omitted. */
  innerEntity?: Buffer;
}

/** Asserts that `signed` carries exactly the decoded content of `original`. */
export async function assertContentPreserved(
  original: Buffer,
  signed: Buffer,
  opts: ContentPreservedOptions = {},
): Promise<void> {
  const top = mimeOutline(signed)[0];
  const format = opts.format ?? (OPAQUE_TYPES.has(top.contentType) ? 'opaque' : 'detached');
  const expected = await decodedContent(original);
  const problems: string[] = [];
  let actual: DecodedContent;
  if (format === 'opaque') {
    actual = await decodedContent(opts.innerEntity ?? (await extractOpaqueContent(signed)));
  } else {
    actual = await decodedContent(signed);
    const signatures = actual.attachments.filter(
      (a) => a.partId === '2' && SIGNATURE_TYPES.has(a.contentType),
    );
    if (top.contentType !== 'multipart/signed')
      problems.push(`top-level Content-Type is ${top.contentType}, not multipart/signed`);
    if (signatures.length !== 1)
      problems.push(
        `expected one application/pkcs7-signature part (part 2), found ${signatures.length}`,
      );
    const rest = actual.parts.filter((p) => p.path === '1' || p.path.startsWith('1.'));
    if (actual.parts.length !== rest.length + 2)
      problems.push(
        `multipart/signed must have exactly 2 parts: ${actual.parts.map((p) => p.path).join(', ')}`,
      );
    actual = {
      ...actual,
      attachments: actual.attachments
        .filter((a) => !signatures.includes(a))
        .map((a) => ({ ...a, partId: unwrapPath(a.partId, null) })),
      parts: rest.map((p) => ({ ...p, path: unwrapPath(p.path, '') ?? '' })),
    };
  }
  for (const d of [
    stringDiff('text', expected.text, actual.text),
    stringDiff('html', expected.html, actual.html),
  ]) {
    if (d) problems.push(d);
  }
  compareAttachments(expected.attachments, actual.attachments, problems);
  compareParts(expected.parts, actual.parts, problems);
  if (problems.length) {
    throw new AssertionError({
      message: `content not preserved (${format}):\n  - ${problems.join('\n  - ')}`,
    });
  }
}

const OPAQUE_TOP_FIELDS = new Set([
  'content-type',
  'content-transfer-encoding',
  'content-disposition',
]);

/**
 * Asserts that every non-Content-* header field of `original` is at the top of `signed` exactly
 * as written (folding included), once, in the original order; that no other Content-* field than
 * the new Content-Type (plus Content-Transfer-Encoding / Content-Disposition for opaque) is there;
 * and that there is exactly one MIME-Version: 1.0.
 */
export function assertOuterHeadersPreserved(original: Buffer, signed: Buffer): void {
  const isContent = (f: HeaderFieldText): boolean => /^content-/i.test(f.name);
  const kept = headerFields(original).filter((f) => !isContent(f));
  const top = headerFields(signed);
  const problems: string[] = [];
  const wanted = new Set(kept.map((f) => f.raw));
  const found = top.filter((f) => wanted.has(f.raw));
  if (found.length !== kept.length || found.some((f, i) => f.raw !== kept[i].raw)) {
    const list = (l: HeaderFieldText[]): string =>
      l.map((f) => `      ${JSON.stringify(f.raw)}`).join('\n');
    problems.push(
      `original header fields not kept verbatim, once and in order:\n    expected:\n${list(kept)}\n    found:\n${list(found)}`,
    );
  }
  const ct = parseValue(fieldValue(top, 'content-type') ?? '').value;
  const allowed = OPAQUE_TYPES.has(ct) ? OPAQUE_TOP_FIELDS : new Set(['content-type']);
  if (!OPAQUE_TYPES.has(ct) && ct !== 'multipart/signed')
    problems.push(`top-level Content-Type is "${ct}"`);
  const contentTop = top.filter(isContent);
  for (const f of contentTop) {
    if (!allowed.has(f.name.toLowerCase()))
      problems.push(`unexpected top-level field ${JSON.stringify(f.raw)}`);
  }
  for (const name of allowed) {
    const n = contentTop.filter((f) => f.name.toLowerCase() === name).length;
    if (n > 1 || (name === 'content-type' && n !== 1))
      problems.push(`${name} appears ${n} times at the top level`);
  }
  const versions = top.filter((f) => f.name.toLowerCase() === 'mime-version');
  if (versions.length !== 1)
    problems.push(`MIME-Version appears ${versions.length} times at the top level`);
  else if (!/^1\.0(\s|\(|$)/.test(fieldValue(versions, 'mime-version') ?? '')) {
    problems.push(`MIME-Version is ${JSON.stringify(versions[0].raw)}`);
  }
  if (problems.length)
    throw new AssertionError({
      message: `outer headers not preserved:\n  - ${problems.join('\n  - ')}`,
    });
}

export interface TransitSafeOptions {
  /** Require the message to end with CRLF (default true). */
  requireFinalCrlf?: boolean;
}

/** Asserts CRLF-only line endings, 7-bit bytes and lines of at most 998 octets. */
export function assertTransitSafe(signed: Buffer, opts: TransitSafeOptions = {}): void {
  // kind -> [count, first occurrence]
  const found = new Map<string, [number, string]>();
  let line = 1;
  let lineStart = 0;
  const report = (kind: string, detail: string, at: number): void => {
    const seen = found.get(kind);
    if (seen) seen[0]++;
    else found.set(kind, [1, `${detail} at byte ${at} (line ${line})`]);
  };
  const checkLength = (end: number): void => {
    const length = end - lineStart;
    if (length > 998) report('long line', `line of ${length} octets`, lineStart);
  };
  for (let i = 0; i < signed.length; i++) {
    const b = signed[i];
    if (b >= 0x80) report('8-bit byte', `8-bit byte 0x${b.toString(16)}`, i);
    if (b === 0x0d && signed[i + 1] !== 0x0a) report('bare CR', 'bare CR', i);
    if (b === 0x0a) {
      if (signed[i - 1] !== 0x0d) report('bare LF', 'bare LF', i);
      checkLength(signed[i - 1] === 0x0d ? i - 1 : i);
      line++;
      lineStart = i + 1;
    }
  }
  checkLength(signed.length);
  if ((opts.requireFinalCrlf ?? true) && signed.length && lineStart !== signed.length) {
    report('unterminated', 'last line not terminated by CRLF', lineStart);
  }
  if (found.size) {
    const list = [...found.values()].map(([n, first]) =>
      n > 1 ? `${first}, and ${n - 1} more` : first,
    );
    throw new AssertionError({ message: `not transit safe:\n  - ${list.join('\n  - ')}` });
  }
}
