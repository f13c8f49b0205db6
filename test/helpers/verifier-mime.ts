/**
 * A deliberately small, independent MIME splitter for S/MIME signed messages, used to feed
 * verifiers that do not read RFC 5322 messages themselves (gpgsm, NSS cmsutil). It does not
 * share code with src/ on purpose: the engine's MIME handling is what is under test.
 *
 * Handles the two S/MIME signed shapes at the top level of the message:
 * - `multipart/signed; protocol="application/pkcs7-signature"`: the first body part's exact bytes
 *   (from after its delimiter line up to, not including, the CRLF that precedes the next
 *   delimiter, RFC 2046 5.1.1) and the decoded signature of the second part;
 * - `application/pkcs7-mime; smime-type=signed-data` (or `x-pkcs7-mime`): the decoded body.
 */

/** Result of {@link splitSignedMessage}. */
export type SignedParts =
  { kind: 'detached'; content: Buffer; signature: Buffer } | { kind: 'opaque'; der: Buffer };

/** A parsed header block (field names lower-cased, folded lines joined). */
type Headers = Map<string, string>;

/** Splits an entity into header block and body (at the first empty line, CRLF or LF). */
function splitEntity(entity: Buffer): { headers: Headers; body: Buffer } {
  const text = entity.toString('latin1');
  const m = /\r?\n\r?\n/.exec(text);
  const headerText = m ? text.slice(0, m.index) : text;
  const bodyStart = m ? m.index + m[0].length : entity.length;
  const headers: Headers = new Map();
  for (const line of headerText.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body: entity.subarray(bodyStart) };
}

/** Parses a Content-Type value into lower-cased `type/subtype` and parameters. */
export function parseContentType(value: string | undefined): {
  mime: string;
  params: Map<string, string>;
} {
  const v = value ?? 'text/plain';
  const semi = v.indexOf(';');
  const mime = (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
  const params = new Map<string, string>();
  const re = /;\s*([^=\s;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/g;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    const raw = m[2];
    const val = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    params.set(m[1].toLowerCase(), val);
  }
  return { mime, params };
}

/** Decodes a body according to its Content-Transfer-Encoding (base64 or identity). */
function decodeBody(headers: Headers, body: Buffer): Buffer {
  const cte = (headers.get('content-transfer-encoding') ?? '').toLowerCase();
  if (cte === 'base64')
    return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (cte === '' || cte === 'binary' || cte === '7bit' || cte === '8bit') return body;
  throw new Error(`unsupported Content-Transfer-Encoding for CMS part: ${cte}`);
}

interface Delimiter {
  /** Offset where the delimiter begins, including its preceding CRLF/LF. */
  start: number;
  /** Offset just after the delimiter line's line break. */
  next: number;
  close: boolean;
}

/** Finds the boundary delimiter lines in a multipart body (RFC 2046 5.1.1). */
function findDelimiters(body: Buffer, boundary: string): Delimiter[] {
  const text = body.toString('latin1');
  const dash = `--${boundary}`;
  const found: Delimiter[] = [];
  for (let i = text.indexOf(dash); i >= 0; i = text.indexOf(dash, i + 1)) {
    if (i > 0 && text[i - 1] !== '\n') continue;
    const after = i + dash.length;
    const close = text.startsWith('--', after);
    const rest = text.slice(close ? after + 2 : after, text.indexOf('\n', after) + 1 || undefined);
    if (!/^[ \t]*\r?\n?$/.test(rest)) continue; // longer boundary or garbage: not a delimiter
    const start = i === 0 ? 0 : text[i - 2] === '\r' ? i - 2 : i - 1;
    const eol = text.indexOf('\n', after);
    found.push({ start, next: eol < 0 ? text.length : eol + 1, close });
    if (close) break;
  }
  return found;
}

/**
 * Splits a signed S/MIME message (whole RFC 5322 message) into what a CMS verifier needs.
 * Throws when the message has neither supported shape.
 */
export function splitSignedMessage(msg: Buffer): SignedParts {
  const { headers, body } = splitEntity(msg);
  const ct = parseContentType(headers.get('content-type'));
  if (ct.mime === 'application/pkcs7-mime' || ct.mime === 'application/x-pkcs7-mime') {
    return { kind: 'opaque', der: decodeBody(headers, body) };
  }
  if (ct.mime !== 'multipart/signed') {
    throw new Error(`not an S/MIME signed message (Content-Type: ${ct.mime})`);
  }
  const boundary = ct.params.get('boundary');
  if (!boundary) throw new Error('multipart/signed without boundary parameter');
  const delims = findDelimiters(body, boundary);
  if (delims.length < 3 || delims[1].close || !delims[2].close) {
    throw new Error(
      `multipart/signed must have exactly two parts and a close delimiter (found ${delims.length} delimiters)`,
    );
  }
  const content = body.subarray(delims[0].next, delims[1].start);
  const sigPart = splitEntity(body.subarray(delims[1].next, delims[2].start));
  const sigType = parseContentType(sigPart.headers.get('content-type')).mime;
  if (sigType !== 'application/pkcs7-signature' && sigType !== 'application/x-pkcs7-signature') {
    throw new Error(`second part of multipart/signed is ${sigType}, not a PKCS#7 signature`);
  }
  return { kind: 'detached', content, signature: decodeBody(sigPart.headers, sigPart.body) };
}
