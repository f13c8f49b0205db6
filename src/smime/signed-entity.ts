/**
 * Turns a finished message into the entity that gets signed (RFC 8551 §3.1): Content-*
 * header fields move inside, every other field stays outside untouched; the entity is
 * CRLF, 7-bit, with lines of at most 998 octets. Leaves that would not survive transit
 * are re-encoded (text to quoted-printable, anything else to base64); safe parts keep
 * their bytes.
 */
import { transitSafeOuterHeaders } from './outer-headers';
import { isAscii } from 'node:buffer';
import { RelayError } from '../plugin/relay-error';
import { hasEightBit, isValidUtf8, safeEntityField } from './header-encoding';
import {
  contentTypeOf,
  fieldValue,
  findField,
  joinMultipart,
  parseEntity,
  serializeEntity,
  scanBodyLines,
  splitMultipart,
  toCrlf,
  type Entity,
  type HeaderField,
} from './mime';
import {
  decodeBase64,
  decodeQuotedPrintable,
  encodeBase64,
  encodeQuotedPrintable,
} from './transfer-encoding';

export interface PreparedMessage {
  /** Header fields that stay outside the signature, in their original order and text. */
  outer: HeaderField[];
  /** The canonical MIME entity to sign, in pieces (an unchanged body is not copied). */
  entityParts: Buffer[];
  /** The same entity in one Buffer. */
  readonly entity: Buffer;
}

const MAX_DEPTH = 32;
// eslint-disable-next-line no-control-regex -- NUL octets are exactly what must be found
const NOT_SEVEN_BIT = /[\x00\x80-\xff]/;

/**
 * True when the text would not pass unchanged through every mail transfer agent: 8-bit
 * or NUL octets, lines over 998 octets, trailing blanks, or a line starting "From ".
 * `sevenBit` says the caller already knows there are no 8-bit or NUL octets.
 */
export function needsEncoding(s: string, sevenBit = false): boolean {
  if (!sevenBit && NOT_SEVEN_BIT.test(s)) return true;
  // One pass over the lines; searching for " \r\n" directly is slower on prose.
  for (let start = 0; ;) {
    const end = s.indexOf('\r\n', start);
    const lineEnd = end < 0 ? s.length : end;
    if (lineEnd - start > 998) return true;
    const last = lineEnd > start ? s.charCodeAt(lineEnd - 1) : 0;
    if (last === 32 || last === 9) return true;
    if (s.charCodeAt(start) === 70 && s.startsWith('From ', start)) return true;
    if (end < 0) return false;
    start = end + 2;
  }
}

/** What a scan of the whole message already established. */
interface Known {
  /** No 8-bit or NUL octets anywhere. */
  sevenBit: boolean;
  /** No body line is too long, ends in a blank or starts with "From ". */
  safeLines: boolean;
}

const unsafe = (s: string, known: Known): boolean =>
  !(known.sevenBit && known.safeLines) && needsEncoding(s, known.sevenBit);

function malformed(message: string): RelayError {
  return new RelayError('malformed_message', message);
}

function setTransferEncoding(headers: HeaderField[], encoding: string): HeaderField[] {
  const field = {
    name: 'content-transfer-encoding',
    raw: `Content-Transfer-Encoding: ${encoding}`,
  };
  const at = headers.findIndex((h) => h.name === 'content-transfer-encoding');
  if (at >= 0) return headers.map((h, i) => (i === at ? field : h));
  const ct = headers.findIndex((h) => h.name === 'content-type');
  return ct < 0
    ? [...headers, field]
    : [...headers.slice(0, ct + 1), field, ...headers.slice(ct + 1)];
}

function transferEncodingOf(headers: HeaderField[]): string {
  const field = findField(headers, 'content-transfer-encoding');
  return field ? fieldValue(field).toLowerCase() : '7bit';
}

const isIdentityEncoding = (e: string): boolean => e === '7bit' || e === '8bit' || e === 'binary';

function prepareLeaf(e: Entity, isText: boolean, known: Known): Entity {
  const encoding = transferEncodingOf(e.headers);
  const identity = encoding === '8bit' || encoding === 'binary';
  if (!unsafe(e.body, known)) {
    // Labelled 8bit or binary but 7-bit in fact, in safe lines: only the label changes.
    return identity ? { headers: setTransferEncoding(e.headers, '7bit'), body: e.body } : e;
  }
  let decoded: string;
  if (isIdentityEncoding(encoding)) decoded = e.body;
  else if (encoding === 'quoted-printable') decoded = decodeQuotedPrintable(e.body);
  else if (encoding === 'base64') decoded = decodeBase64(e.body);
  else throw malformed(`a part uses the unknown Content-Transfer-Encoding "${encoding}"`);
  return isText && quotedPrintableIsSmaller(decoded)
    ? {
        headers: setTransferEncoding(e.headers, 'quoted-printable'),
        body: encodeQuotedPrintable(decoded),
      }
    : { headers: setTransferEncoding(e.headers, 'base64'), body: encodeBase64(decoded) };
}

/**
 * Whether quoted-printable encodes this text in fewer octets than base64 (RFC 2045 allows
 * either for text). Mostly-ASCII text stays readable as quoted-printable; text that is mostly
 * 8-bit (Japanese, Chinese, Korean in UTF-8) would triple, so it goes as base64.
 */
function quotedPrintableIsSmaller(text: string): boolean {
  const n = text.length;
  // Base64: 4 characters per 3 octets, a CRLF after every 76.
  const base64 = Math.ceil(n / 3) * 4 * (78 / 76);
  let escaped = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 126 || c === 61 || (c < 32 && c !== 9 && c !== 10 && c !== 13)) escaped++;
  }
  // Every escape takes three characters; soft breaks add about one in 25.
  return (n + 2 * escaped) * (78 / 75) <= base64;
}

/** Preamble and epilogue carry no content; drop them when they would not survive transit. */
const keepIfSafe = (s: string | null, known: Known): string | null =>
  s !== null && unsafe(s, known) ? '' : s;

const isSevenBitLabel = (headers: HeaderField[]): boolean => transferEncodingOf(headers) === '7bit';

function relabelSevenBit(headers: HeaderField[]): HeaderField[] {
  const encoding = transferEncodingOf(headers);
  return encoding === '8bit' || encoding === 'binary'
    ? setTransferEncoding(headers, '7bit')
    : headers;
}

/**
 * Header fields inside the signed entity made transit-safe; the same array when nothing had
 * to change. Part headers are body lines of the message, so a clean scan vouches for them;
 * the top-level Content-* fields come from the message header and are always checked.
 */
function safeHeaders(headers: HeaderField[], known: Known, top: boolean): HeaderField[] {
  if (!top && known.sevenBit && known.safeLines) return headers;
  const mapped = headers.map(safeEntityField);
  return mapped.every((h, i) => h === headers[i]) ? headers : mapped;
}

interface Walk {
  known: Known;
  depth: number;
}

/**
 * A part is kept byte for byte when it is transit-safe, even if its header block cannot be
 * read or it lies deeper than we walk: only a part that needs re-encoding must be
 * understood, and one that cannot be is refused.
 */
function preparePart(
  part: string,
  bytes: Buffer | undefined,
  childType: string,
  walk: Walk,
  n: number,
): string {
  let parsed: Entity;
  try {
    if (walk.depth >= MAX_DEPTH)
      throw malformed(`MIME parts are nested more than ${MAX_DEPTH} deep`);
    parsed = parseEntity(part, `header of part ${n + 1}`);
  } catch (e) {
    if (unsafe(part, walk.known)) throw e;
    return part;
  }
  const bodyBytes = bytes?.subarray(part.length - parsed.body.length);
  const prepared = prepareEntity(parsed, childType, { ...walk, depth: walk.depth + 1 }, bodyBytes);
  return prepared === parsed ? part : serializeEntity(prepared);
}

function prepareMultipart(
  e: Entity,
  headers: HeaderField[],
  type: string,
  boundary: string,
  walk: Walk,
  bytes?: Buffer,
): Entity | undefined {
  const body = splitMultipart(e.body, boundary, bytes);
  if (!body) return undefined;
  const childType = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
  let changed = body.repaired;
  const parts = body.parts.map((part, n) => {
    const start = body.partStarts[n];
    const prepared = preparePart(
      part,
      bytes?.subarray(start, start + part.length),
      childType,
      walk,
      n,
    );
    changed ||= prepared !== part;
    return prepared;
  });
  const preamble = keepIfSafe(body.preamble, walk.known);
  const epilogue = keepIfSafe(body.epilogue, walk.known);
  changed ||= preamble !== body.preamble || epilogue !== body.epilogue;
  const joined = changed ? joinMultipart({ preamble, parts, epilogue }, boundary) : e.body;
  return { headers: relabelSevenBit(headers), body: joined };
}

/** RFC 2046 §5.1.1 bchars; a boundary may not end in a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]*[0-9A-Za-z'()+_,\-./:=?]$/;
/** The close-delimiter line `--boundary--` must fit a 998-octet line. */
const MAX_BOUNDARY = 998 - 4;

/**
 * A boundary whose delimiter lines would not survive transit is refused. RFC 2046 allows 70
 * characters; longer ones of the same characters pass, as mail clients read them.
 */
function checkBoundary(boundary: string): void {
  if (!BOUNDARY.test(boundary)) {
    throw malformed(
      'a multipart boundary has characters RFC 2046 does not allow there (or ends in a space)',
    );
  }
  if (boundary.length > MAX_BOUNDARY) {
    throw malformed(
      `a multipart boundary has ${boundary.length} characters; its delimiter lines would be over 998 octets`,
    );
  }
}

/**
 * Prepare one entity for signing. Returns `e` itself when nothing had to change, so the
 * caller can reuse the original bytes. `bytes`, when given, holds the body's exact bytes.
 */
function prepareEntity(e: Entity, defaultType: string, walk: Walk, bytes?: Buffer): Entity {
  const headers = safeHeaders(e.headers, walk.known, walk.depth === 0);
  const ct = contentTypeOf(headers);
  const type = ct ? `${ct.type}/${ct.subtype}` : defaultType;
  const boundary = ct?.params.get('boundary');
  let out: Entity | undefined;
  if (type.startsWith('multipart/')) {
    if (boundary) checkBoundary(boundary);
    out = boundary ? prepareMultipart(e, headers, type, boundary, walk, bytes) : undefined;
    // RFC 2045 §6.4: a multipart is never encoded, so one we cannot split must already be safe.
    if (!out && (unsafe(e.body, walk.known) || !isSevenBitLabel(headers))) {
      throw malformed(`a ${type} part has no usable boundary and would need re-encoding`);
    }
    out ??= { headers, body: e.body };
  }
  if (!out && type === 'message/rfc822' && isIdentityEncoding(transferEncodingOf(headers))) {
    // The attached message's own header fields are made safe like any part's.
    out = {
      headers: relabelSevenBit(headers),
      body: preparePart(e.body, bytes, 'text/plain', walk, 0),
    };
  }
  out ??= prepareLeaf({ headers, body: e.body }, type.startsWith('text/'), walk.known);
  return out.headers === e.headers && out.body === e.body ? e : out;
}

function splitTopFields(headers: HeaderField[]): { outer: HeaderField[]; inner: HeaderField[] } {
  return {
    outer: headers.filter((h) => !h.name.startsWith('content-')),
    inner: headers.filter((h) => h.name.startsWith('content-')),
  };
}

/**
 * Split and canonicalise a message for signing. Throws RelayError('malformed_message')
 * for input that is not a message.
 */
export function prepareMessage(raw: Buffer): PreparedMessage {
  if (raw.length === 0) throw malformed('the message is empty');
  const latin1 = raw.toString('latin1');
  const scan = scanBodyLines(latin1);
  const known: Known = {
    sevenBit: isAscii(raw) && raw.indexOf(0) < 0,
    safeLines: !scan.bareLineBreak && scan.safeLines,
  };
  if (scan.bareLineBreak && /content-transfer-encoding[ \t]*:[ \t]*binary/i.test(latin1)) {
    // Line-ending repair would rewrite octets inside the binary part.
    throw malformed('a part is binary but the message has bare CR or LF line endings; send CRLF');
  }
  const text = scan.bareLineBreak ? toCrlf(latin1) : latin1;
  // Without line-ending repair, text and raw are the same octets and raw can be sliced.
  const source = scan.bareLineBreak ? undefined : raw;
  if (text.startsWith('\r\n')) throw malformed('the message has no header fields');
  const top = parseEntity(text, 'message header');
  const { outer, inner } = splitTopFields(top.headers);
  let charset = 'us-ascii';
  if (!findField(inner, 'content-type') && hasEightBit(top.body)) {
    if (!isValidUtf8(top.body)) {
      throw malformed(
        'the body has 8-bit octets that are not UTF-8 and no Content-Type names a charset',
      );
    }
    charset = 'utf-8';
  }
  const input = { headers: withContentType(inner, charset), body: top.body };
  const bodyBytes = source?.subarray(source.length - top.body.length);
  const prepared = prepareEntity(input, 'text/plain', { known, depth: 0 }, bodyBytes);
  const head = prepared.headers.map((h) => h.raw).join('\r\n') + '\r\n\r\n';
  // An unchanged body is copied straight from the input bytes.
  const body =
    prepared.body === top.body && bodyBytes ? bodyBytes : Buffer.from(prepared.body, 'latin1');
  const entityParts = [Buffer.from(head, 'latin1'), body];
  return {
    outer: transitSafeOuterHeaders(outer),
    entityParts,
    get entity() {
      return Buffer.concat(entityParts);
    },
  };
}

function withContentType(inner: HeaderField[], charset: string): HeaderField[] {
  if (findField(inner, 'content-type')) return inner;
  return [{ name: 'content-type', raw: `Content-Type: text/plain; charset=${charset}` }, ...inner];
}
