/**
 * Content-Transfer-Encoding codecs (RFC 2045 §6.7, §6.8) on latin1 strings, where one
 * character is one octet. Encoders produce CRLF lines of at most 76 characters.
 */

const HEX = '0123456789ABCDEF';
const HEX_OCTETS = Buffer.from(HEX, 'latin1');

/**
 * Quoted-printable for text: CRLF pairs are line breaks; every other octet that is not
 * printable ASCII is escaped, including a lone CR or LF, so the decoded octets are exact.
 * Trailing whitespace, a leading "From " and a leading "." are escaped too, as they do not
 * survive every mail transfer agent, and so is a leading "-", so that no encoded line can
 * look like a multipart delimiter (RFC 2046 §5.1.1).
 */
/** Whether a line starting with this character could be misread in transit (".", "-", "From "). */
const startsUnsafe = (text: string, i: number, code: number): boolean =>
  code === 46 || code === 45 || (code === 70 && text.startsWith('From ', i));

/** Octets written as they are when nothing about their place forces an escape. */
const LITERAL = new Uint8Array(256);
for (let c = 33; c <= 126; c++) LITERAL[c] = c === 61 ? 0 : 1;
LITERAL[32] = LITERAL[9] = 2; // literal unless a line break or the end follows

export function encodeQuotedPrintable(text: string): string {
  const src = Buffer.from(text, 'latin1');
  const n = src.length;
  // Written as octets into one buffer: at worst every character is escaped (3 octets) and a
  // soft break ("=" CRLF) follows every 25 escapes.
  const out = Buffer.allocUnsafe(n * 3 + (Math.floor(n / 25) + 1) * 3);
  let o = 0;
  let lineLength = 0;
  for (let i = 0; i < n; i++) {
    const code = src[i];
    const kind = LITERAL[code];
    // The common case: a printable octet inside a line with room left.
    if (kind === 1 && lineLength > 0 && lineLength < 74) {
      out[o++] = code;
      lineLength++;
      continue;
    }
    if (code === 13 && src[i + 1] === 10) {
      out[o++] = 13;
      out[o++] = 10;
      lineLength = 0;
      i++;
      continue;
    }
    let escape: boolean;
    if (kind === 2 && (i + 1 === n || src[i + 1] === 13)) {
      escape = true; // whitespace before a line break or at the end
    } else if (lineLength === 0 && startsUnsafe(text, i, code)) {
      escape = true;
    } else {
      escape = kind === 0;
    }
    if (lineLength + (escape ? 3 : 1) > 75) {
      out[o++] = 61;
      out[o++] = 13;
      out[o++] = 10;
      lineLength = 0;
      // A soft break must not leave ".", "-" or "From " at the start of the next line.
      if (!escape && startsUnsafe(text, i, code)) escape = true;
    }
    if (escape) {
      out[o++] = 61;
      out[o++] = HEX_OCTETS[code >> 4];
      out[o++] = HEX_OCTETS[code & 15];
      lineLength += 3;
    } else {
      out[o++] = code;
      lineLength += 1;
    }
  }
  return out.toString('latin1', 0, o);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Decode quoted-printable, tolerating lower-case hex and stray "=" as real decoders do. */
export function decodeQuotedPrintable(encoded: string): string {
  const lines = encoded.split('\r\n');
  const out: string[] = [];
  for (let l = 0; l < lines.length; l++) {
    let line = lines[l].replace(/[ \t]+$/, '');
    let soft = false;
    if (line.endsWith('=')) {
      soft = true;
      line = line.slice(0, -1);
    }
    let decoded = '';
    let start = 0;
    for (let i = line.indexOf('='); i >= 0; i = line.indexOf('=', i + 1)) {
      const hi = hexValue(line.charCodeAt(i + 1));
      const lo = hexValue(line.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) continue;
      decoded += line.slice(start, i) + String.fromCharCode(hi * 16 + lo);
      start = i + 3;
      i += 2;
    }
    decoded += line.slice(start);
    out.push(decoded);
    if (!soft && l + 1 < lines.length) out.push('\r\n');
  }
  return out.join('');
}

/** Base64 in CRLF lines of 76 characters, ending with CRLF. */
export function encodeBase64(bytes: Buffer | string): string {
  const b64 = (typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join('\r\n') + '\r\n';
}

export function decodeBase64(encoded: string): string {
  return Buffer.from(encoded.replace(/[^A-Za-z0-9+/]/g, ''), 'base64').toString('latin1');
}
