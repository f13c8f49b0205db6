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
import { OPAQUE_TYPES, fieldValue, fieldsOf, parseValue, splitEntity } from './message-headers';

// The header-level checks live in message-headers.ts; tests import them from here too.
export {
  assertOuterHeadersPreserved,
  assertTransitSafe,
  headerFields,
  type HeaderFieldText,
  type TransitSafeOptions,
} from './message-headers';

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

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const normalizeEol = (s: string): string => s.replace(/\r\n/g, '\n');

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
