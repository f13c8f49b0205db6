/**
 * Just enough RFC 5322 / RFC 2045 parsing to split a message into header fields and body,
 * read Content-Type parameters and walk multipart bodies, all on latin1 strings so that
 * one character is one octet and unchanged parts keep their exact bytes.
 */
import { readHeader } from '../plugin/header-reader';
import { RelayError } from '../plugin/relay-error';

export interface HeaderField {
  /** Lower-cased field name. */
  name: string;
  /** The whole field as it appeared, folding included, without the final CRLF. */
  raw: string;
}

export interface Entity {
  headers: HeaderField[];
  body: string;
}

const NEEDS_CRLF = /\r(?!\n)|(?<!\r)\n/;

export interface LineScan {
  /** Some LF lacks its CR, or some CR its LF. */
  bareLineBreak: boolean;
  /** After the header, no line is over 998 octets, ends in a blank or starts with "From ". */
  safeLines: boolean;
}

/**
 * One pass over a latin1 string with the engine's own string search (cheaper per call
 * than Buffer.indexOf), so a clean message (the usual case) needs no per-part checks.
 */
export function scanBodyLines(s: string): LineScan {
  const headerEnd = s.indexOf('\r\n\r\n');
  let lineStart = headerEnd < 0 ? 0 : headerEnd + 4;
  let safeLines = true;
  // Every CR must be followed by LF, and every LF preceded by CR: walking the CRs, the next
  // LF must always sit right after the current CR.
  let nextLf = s.indexOf('\n');
  for (let cr = s.indexOf('\r'); cr >= 0; cr = s.indexOf('\r', cr + 2)) {
    if (nextLf !== cr + 1) return { bareLineBreak: true, safeLines: false };
    nextLf = s.indexOf('\n', cr + 2);
    if (cr < lineStart) continue;
    const last = s.charCodeAt(cr - 1);
    if (
      cr - lineStart > 998 ||
      (cr > lineStart && (last === 32 || last === 9)) ||
      (s.charCodeAt(lineStart) === 70 && s.startsWith('From ', lineStart))
    ) {
      safeLines = false;
    }
    lineStart = cr + 2;
  }
  if (nextLf >= 0) return { bareLineBreak: true, safeLines: false };
  const tail = s.length - lineStart;
  const lastCode = s.charCodeAt(s.length - 1);
  if (tail > 998 || (tail > 0 && (lastCode === 32 || lastCode === 9))) safeLines = false;
  if (s.startsWith('From ', lineStart)) safeLines = false;
  return { bareLineBreak: false, safeLines };
}

/** Every line ending to CRLF; returns the input itself when it is already canonical. */
export function toCrlf(s: string): string {
  return NEEDS_CRLF.test(s) ? s.replace(/\r\n|\r|\n/g, '\r\n') : s;
}

function malformed(message: string): RelayError {
  return new RelayError('malformed_message', message);
}

/**
 * Parse a header block (CRLF separated, no trailing blank line) with the one header reader;
 * a line that is not a field is refused as malformed_message.
 */
export function parseHeaderBlock(block: string, where: string): HeaderField[] {
  if (block === '') return [];
  const header = readHeader(Buffer.from(`${block}\r\n`, 'latin1'));
  const [problem] = header.problems;
  if (problem) {
    throw malformed(
      problem.startsWith('line 1 is a continuation')
        ? `${where} starts with a continuation line`
        : problem.replace(/^line (\d+) is/, `line $1 of the ${where} is`),
    );
  }
  return header.fields.map((f) => ({ name: f.name, raw: f.text }));
}

/** Split an entity (CRLF) into header fields and body. */
export function parseEntity(text: string, where: string): Entity {
  if (text.startsWith('\r\n')) return { headers: [], body: text.slice(2) };
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) {
    // Headers only, ending in CRLF, is an entity with an empty body.
    if (text.endsWith('\r\n'))
      return { headers: parseHeaderBlock(text.slice(0, -2), where), body: '' };
    throw malformed(`the ${where} has no blank line between header and body`);
  }
  return { headers: parseHeaderBlock(text.slice(0, end), where), body: text.slice(end + 4) };
}

export function serializeEntity(e: Entity): string {
  if (e.headers.length === 0) return '\r\n' + e.body;
  return e.headers.map((h) => h.raw).join('\r\n') + '\r\n\r\n' + e.body;
}

/** The unfolded value of a field (everything after the colon, trimmed). */
export function fieldValue(field: HeaderField): string {
  const colon = field.raw.indexOf(':');
  return field.raw
    .slice(colon + 1)
    .replace(/\r\n(?=[ \t])/g, '')
    .trim();
}

export function findField(headers: HeaderField[], name: string): HeaderField | undefined {
  return headers.find((h) => h.name === name);
}

export interface ContentType {
  type: string;
  subtype: string;
  params: Map<string, string>;
}

/** Remove RFC 5322 comments outside quoted strings, in one pass. */
export function stripComments(value: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += c + (value[i + 1] ?? '');
      i++;
    } else if (quoted) {
      out += c;
      if (c === '"') quoted = false;
    } else if (c === '"' && depth === 0) {
      quoted = true;
      out += c;
    } else if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}

/** Parse `type/subtype; a=b; c="d"` (RFC 2045 §5.1). Parameter names are lower-cased. */
export function parseContentType(value: string | undefined): ContentType | undefined {
  if (!value) return undefined;
  const v = stripComments(value);
  const m = /^\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*\/\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)/.exec(v);
  if (!m) return undefined;
  const params = new Map<string, string>();
  const re = /;\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  re.lastIndex = m[0].length;
  for (let p = re.exec(v); p; p = re.exec(v)) {
    const name = p[1].toLowerCase();
    if (!params.has(name))
      params.set(name, p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]);
  }
  return { type: m[1].toLowerCase(), subtype: m[2].toLowerCase(), params };
}

export function contentTypeOf(headers: HeaderField[]): ContentType | undefined {
  const field = findField(headers, 'content-type');
  return field ? parseContentType(fieldValue(field)) : undefined;
}

export interface MultipartBody {
  /** Text before the first delimiter, or null when the body starts with it. */
  preamble: string | null;
  parts: string[];
  /** Where each part starts in the body, so callers can slice the same bytes. */
  partStarts: number[];
  /** Text after the close delimiter's CRLF, or null when nothing (not even CRLF) follows. */
  epilogue: string | null;
  /** A delimiter carried transport padding, or the close delimiter was missing. */
  repaired: boolean;
}

interface Delimiter {
  lineStart: number;
  crlfStart: number;
  lineEnd: number;
  close: boolean;
}

/**
 * Split a multipart body at its delimiters (RFC 2046 §5.1.1). The CRLF before each
 * delimiter belongs to the delimiter; transport padding after it is dropped. `bytes`, the
 * same body as a Buffer, makes the search use the native byte search.
 */
export function splitMultipart(
  body: string,
  boundary: string,
  bytes?: Buffer,
): MultipartBody | undefined {
  const dash = '--' + boundary;
  const marker = '\r\n' + dash;
  const markerBytes = bytes && Buffer.from(marker, 'latin1');
  const after = (from: number): number => {
    const at = markerBytes
      ? (bytes as Buffer).indexOf(markerBytes, from)
      : body.indexOf(marker, from);
    return at < 0 ? -1 : at + 2;
  };
  const found: Delimiter[] = [];
  let padded = false;
  let lineStart = body.startsWith(dash) ? 0 : after(0);
  while (lineStart >= 0) {
    let pos = lineStart + dash.length;
    const close = body.startsWith('--', pos);
    if (close) pos += 2;
    const padStart = pos;
    while (body[pos] === ' ' || body[pos] === '\t') pos++;
    if (pos === body.length || body.startsWith('\r\n', pos)) {
      padded ||= pos !== padStart;
      found.push({
        lineStart,
        crlfStart: lineStart === 0 ? 0 : lineStart - 2,
        lineEnd: pos,
        close,
      });
      if (close) break;
    }
    lineStart = after(pos);
  }
  if (found.length === 0 || found[0].close) return undefined;
  const preamble = found[0].lineStart === 0 ? null : body.slice(0, found[0].crlfStart);
  const parts: string[] = [];
  const partStarts: number[] = [];
  for (let i = 0; i + 1 < found.length; i++) {
    const contentStart = Math.min(found[i].lineEnd + 2, found[i + 1].crlfStart);
    partStarts.push(contentStart);
    parts.push(body.slice(contentStart, found[i + 1].crlfStart));
  }
  const last = found[found.length - 1];
  let epilogue: string | null = null;
  if (last.close) epilogue = last.lineEnd >= body.length ? null : body.slice(last.lineEnd + 2);
  else {
    // No close delimiter: the last part runs to the end of the body.
    const contentStart = Math.min(last.lineEnd + 2, body.length);
    partStarts.push(contentStart);
    parts.push(body.slice(contentStart));
  }
  return { preamble, parts, partStarts, epilogue, repaired: padded || !last.close };
}

export function joinMultipart(
  m: Pick<MultipartBody, 'preamble' | 'parts' | 'epilogue'>,
  boundary: string,
): string {
  const dash = '--' + boundary;
  let out = m.preamble === null ? '' : m.preamble + '\r\n';
  for (const part of m.parts) out += dash + '\r\n' + part + '\r\n';
  out += dash + '--';
  if (m.epilogue !== null) out += '\r\n' + m.epilogue;
  return out;
}
