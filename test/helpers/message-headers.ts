/**
 * Header-level checks of a signed message, independent of src/: raw header fields, whether
 * the outer fields survived signing, and whether the whole message is transit-safe.
 */
import { AssertionError } from 'node:assert';

export interface HeaderFieldText {
  /** Field name as written. */
  name: string;
  /** The whole field, folding included, line endings normalised to CRLF, no final CRLF. */
  raw: string;
}

/** Splits raw bytes (as a latin1 string) into header block and body at the first empty line. */
export function splitEntity(raw: string): { header: string; body: string } {
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

export function fieldsOf(header: string): HeaderFieldText[] {
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

export function fieldValue(fields: HeaderFieldText[], name: string): string | undefined {
  const f = fields.find((x) => x.name.toLowerCase() === name);
  return f?.raw
    .slice(f.raw.indexOf(':') + 1)
    .replace(/\r\n/g, '')
    .trim();
}

export function parseValue(value: string): { value: string; params: Record<string, string> } {
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

export const OPAQUE_TYPES = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);

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
