/**
 * Makes MIME header fields inside the signed entity 7-bit (RFC 8551 §3.1). Platforms
 * sometimes write raw UTF-8 file names; those become RFC 2231 parameters, and other
 * 8-bit Content-* fields become RFC 2047 encoded-words. Decoders give back the same text.
 */
import { fieldValue, type HeaderField } from './mime';

const EIGHT_BIT = /[\x80-\xff]/;

export const hasEightBit = (s: string): boolean => EIGHT_BIT.test(s);

function charsetOf(latin1: string): string {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(latin1, 'latin1'));
    return 'utf-8';
  } catch {
    return 'unknown-8bit';
  }
}

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

/** Rewrite one Content-* field so it is 7-bit; fields that already are stay untouched. */
export function sevenBitField(field: HeaderField): HeaderField {
  if (!hasEightBit(field.raw)) return field;
  const displayName = field.raw.slice(0, field.raw.indexOf(':'));
  const value = fieldValue(field);
  if (field.name === 'content-type' || field.name === 'content-disposition') {
    const first = value.indexOf(';');
    const lines = [`${displayName}: ${first < 0 ? value : value.slice(0, first).trim()}`];
    if (first >= 0) {
      for (const m of value.slice(first).matchAll(PARAM)) {
        const raw = m[2].startsWith('"') ? m[2].slice(1, -1).replace(/\\(.)/g, '$1') : m[2];
        const params = hasEightBit(raw) ? rfc2231(m[1], raw) : [`${m[1]}=${m[2]}`];
        for (const p of params) lines.push(' ' + p);
      }
    }
    return { name: field.name, raw: lines.join(';\r\n') };
  }
  return { name: field.name, raw: `${displayName}: ${encodedWords(value).join('\r\n ')}` };
}
