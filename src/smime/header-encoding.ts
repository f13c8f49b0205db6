/**
 * Makes MIME header fields inside the signed entity 7-bit (RFC 8551 §3.1). Platforms
 * sometimes write raw UTF-8 file names; those become RFC 2231 parameters, and other
 * 8-bit Content-* fields become RFC 2047 encoded-words. Decoders give back the same text.
 */
import { RelayError } from '../plugin/relay-error';
import { fieldValue, type HeaderField } from './mime';

const EIGHT_BIT = /[\x80-\xff]/;

export const hasEightBit = (s: string): boolean => EIGHT_BIT.test(s);

/** Whether the octets (a latin1 string) are valid UTF-8. */
export function isValidUtf8(latin1: string): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(latin1, 'latin1'));
    return true;
  } catch {
    return false;
  }
}

const charsetOf = (latin1: string): string => (isValidUtf8(latin1) ? 'utf-8' : 'unknown-8bit');

function percentEncode(latin1: string): string {
  let out = '';
  for (let i = 0; i < latin1.length; i++) {
    const c = latin1.charCodeAt(i);
    const keep = /[A-Za-z0-9!#$&+\-.^_`|~]/.test(latin1[i]);
    out += keep ? latin1[i] : '%' + c.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** `name*0*=utf-8''…; name*1*=…` chunks short enough for 76-character lines. */
function rfc2231(name: string, value: string): string[] {
  const encoded = percentEncode(value);
  const chunks: string[] = [];
  for (let i = 0; i < encoded.length;) {
    let end = Math.min(i + 60, encoded.length);
    if (encoded[end - 1] === '%') end -= 1;
    else if (encoded[end - 2] === '%') end -= 2;
    chunks.push(encoded.slice(i, end));
    i = end;
  }
  const prefix = `${charsetOf(value)}''`;
  if (chunks.length === 1) return [`${name}*=${prefix}${chunks[0]}`];
  return chunks.map((c, n) => `${name}*${n}*=${n === 0 ? prefix : ''}${c}`);
}

/** RFC 2047 B encoded-words of at most 75 characters, split between UTF-8 characters. */
export function encodedWords(latin1: string): string[] {
  const charset = charsetOf(latin1);
  const bytes = Buffer.from(latin1, 'latin1');
  const words: string[] = [];
  const maxBytes = Math.floor((75 - charset.length - 7) / 4) * 3;
  for (let i = 0; i < bytes.length;) {
    let end = Math.min(i + maxBytes, bytes.length);
    while (charset === 'utf-8' && end < bytes.length && (bytes[end] & 0xc0) === 0x80) end--;
    words.push(`=?${charset}?B?${bytes.subarray(i, end).toString('base64')}?=`);
    i = end;
  }
  return words;
}

const PARAM = /;\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/g;

/** Longest field we rewrite; a longer one that needs rewriting is refused (linear work). */
const MAX_REWRITTEN_FIELD = 16 * 1024;

/** A piece of a field value: literal text, or 8-bit text that may become encoded-words. */
interface Token {
  text: string;
  /** The text an encoded-word must carry (a quoted string without its quotes). */
  encodable?: string;
}

/** Encode runs of encodable tokens; blanks between them go inside the run (RFC 2047 §6.2). */
function encodeRuns(tokens: Token[]): string {
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].encodable === undefined) {
      out += tokens[i].text;
      continue;
    }
    let text = tokens[i].encodable as string;
    let j = i;
    while (
      j + 2 < tokens.length &&
      /^[ \t]+$/.test(tokens[j + 1].text) &&
      tokens[j + 2].encodable !== undefined
    ) {
      text += tokens[j + 1].text + tokens[j + 2].encodable;
      j += 2;
    }
    out += encodedWords(text).join(' ');
    i = j;
  }
  return out;
}

/** Unstructured text (Subject, X-*): every blank-separated word with 8-bit octets. */
function unstructuredTokens(value: string): Token[] {
  return value
    .split(/([ \t]+)/)
    .map((text) => (hasEightBit(text) ? { text, encodable: text } : { text }));
}

/** Address fields: only phrases (display names), never an address or an addr-spec. */
function addressTokens(value: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < value.length;) {
    const c = value[i];
    let end: number;
    if (c === '"') {
      end = i + 1;
      while (end < value.length && value[end] !== '"') end += value[end] === '\\' ? 2 : 1;
      end = Math.min(end + 1, value.length);
      const inner = value.slice(i + 1, end - 1).replace(/\\(.)/g, '$1');
      tokens.push(
        hasEightBit(inner)
          ? { text: value.slice(i, end), encodable: inner }
          : { text: value.slice(i, end) },
      );
    } else if (c === '<') {
      const close = value.indexOf('>', i);
      end = close < 0 ? value.length : close + 1;
      tokens.push({ text: value.slice(i, end) });
    } else if (c === ' ' || c === '\t') {
      end = i;
      while (end < value.length && (value[end] === ' ' || value[end] === '\t')) end++;
      tokens.push({ text: value.slice(i, end) });
    } else if (',;:()'.includes(c)) {
      end = i + 1;
      tokens.push({ text: c });
    } else {
      end = i;
      while (end < value.length && !' \t",;:<()'.includes(value[end])) end++;
      const word = value.slice(i, end);
      tokens.push(
        hasEightBit(word) && !word.includes('@') ? { text: word, encodable: word } : { text: word },
      );
    }
    i = end;
  }
  return tokens;
}

export const ADDRESS_FIELDS = new Set([
  'from',
  'sender',
  'reply-to',
  'to',
  'cc',
  'bcc',
  'resent-from',
  'resent-sender',
  'resent-to',
  'resent-cc',
]);

/** Fold at blanks so lines stay within 78 characters where a blank allows (RFC 5322 §2.1.1). */
export function foldAt78(raw: string): string {
  const words = raw.split(' ');
  const lines: string[] = [];
  let line = words[0];
  for (const word of words.slice(1)) {
    if (line.length + 1 + word.length > 78 && line.trim() !== '') {
      lines.push(line);
      line = ' ' + word;
    } else line += ' ' + word;
  }
  lines.push(line);
  return lines.join('\r\n');
}

/** Fold lines over 998 octets at a blank; a line without one is left as it is. */
export function refold(raw: string): string {
  if (raw.length <= 998) return raw;
  const out: string[] = [];
  for (let line of raw.split('\r\n')) {
    while (line.length > 998) {
      const cut = line.lastIndexOf(' ', 990);
      if (cut <= 0) break;
      out.push(line.slice(0, cut));
      line = line.slice(cut);
    }
    out.push(line);
  }
  return out.join('\r\n');
}

/** Content-Type / Content-Disposition with 8-bit parameter values: RFC 2231 parameters. */
function parameterField(displayName: string, value: string): string {
  const first = value.indexOf(';');
  const head = first < 0 ? value : value.slice(0, first).trim();
  if (hasEightBit(head)) throw malformed(`the ${displayName} value "${head}" is not 7-bit`);
  const lines = [`${displayName}: ${head}`];
  if (first >= 0) {
    for (const m of value.slice(first).matchAll(PARAM)) {
      const raw = m[2].startsWith('"') ? m[2].slice(1, -1).replace(/\\(.)/g, '$1') : m[2];
      const params = hasEightBit(raw) ? rfc2231(m[1], raw) : [`${m[1]}=${m[2]}`];
      for (const p of params) lines.push(' ' + p);
    }
  }
  return lines.join(';\r\n');
}

function malformed(message: string): RelayError {
  return new RelayError('malformed_message', message);
}

/** The field with its 8-bit text re-encoded so decoders give back the same text. */
export function encodeEightBitField(field: HeaderField): HeaderField {
  if (!hasEightBit(field.raw)) return field;
  const displayName = field.raw.slice(0, field.raw.indexOf(':'));
  if (field.raw.length > MAX_REWRITTEN_FIELD) {
    throw malformed(`the ${displayName} field is over ${MAX_REWRITTEN_FIELD} octets and not 7-bit`);
  }
  const value = fieldValue(field);
  if (field.name === 'content-type' || field.name === 'content-disposition') {
    return { name: field.name, raw: parameterField(displayName, value) };
  }
  const tokens = ADDRESS_FIELDS.has(field.name) ? addressTokens(value) : unstructuredTokens(value);
  return { name: field.name, raw: foldAt78(`${displayName}: ${encodeRuns(tokens)}`) };
}

/**
 * A header field inside the signed entity made transit-safe (RFC 8551 §3.1): 7-bit, lines of
 * at most 998 octets, no blank at a line end. NUL or a bare CR cannot be repaired.
 */
export function safeEntityField(field: HeaderField): HeaderField {
  // eslint-disable-next-line no-control-regex -- NUL is exactly what must be refused
  if (/\x00|\r(?!\n)/.test(field.raw)) {
    throw malformed('a part header field holds a NUL octet or a bare CR');
  }
  const lines: string[] = [];
  for (const [i, line] of refold(encodeEightBitField(field).raw).split('\r\n').entries()) {
    let end = line.length;
    while (end > 0 && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--;
    // Trailing blanks are insignificant once unfolded; a blank-only continuation goes.
    if (end > 0 || i === 0) lines.push(line.slice(0, end));
  }
  const raw = lines.join('\r\n');
  if (raw.split('\r\n').some((l) => l.length > 998)) {
    throw malformed('a part header field has a line over 998 octets with no blank to fold at');
  }
  return raw === field.raw ? field : { name: field.name, raw };
}
