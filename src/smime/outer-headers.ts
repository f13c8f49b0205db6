/**
 * Header fields outside the signature stay as the platform wrote them. Only where a field
 * would break the 7-bit, 998-octet rule of the output is it re-encoded or refolded, with
 * the same decoded meaning.
 */
import { encodedWords, hasEightBit } from './header-encoding';
import type { HeaderField } from './mime';

const ADDRESS_FIELDS = new Set([
  'from',
  'sender',
  'reply-to',
  'to',
  'cc',
  'bcc',
  'resent-from',
  'resent-to',
]);

/** Encode each run of 8-bit words as RFC 2047 encoded-words (RFC 6532 text to RFC 2047). */
function encodeEightBitWords(value: string, inPhraseOnly: boolean): string {
  // In address fields, only text outside <...> and outside the addr-spec may be encoded.
  return value.replace(
    /"((?:[^"\\]|\\.)*)"|[^\s<>",]*[\x80-\xff][^\s<>",]*(?:\s+[^\s<>",]*[\x80-\xff][^\s<>",]*)*/g,
    (m, quoted) => {
      const text = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : m;
      if (!hasEightBit(text)) return m;
      if (inPhraseOnly && /@/.test(text) && quoted === undefined) return m;
      return encodedWords(text).join(' ');
    },
  );
}

function refold(raw: string): string {
  if (raw.length <= 998) return raw;
  const lines = raw.split('\r\n');
  if (lines.every((l) => l.length <= 998)) return raw;
  const out: string[] = [];
  for (let line of lines) {
    while (line.length > 998) {
      const cut = line.lastIndexOf(' ', 990);
      if (cut <= 0) break; // no whitespace to fold at; leave it for the transport to refuse
      out.push(line.slice(0, cut));
      line = line.slice(cut);
    }
    out.push(line);
  }
  return out.join('\r\n');
}

/**
 * Fold a field we rewrote at blanks so that lines stay within 78 characters where a blank
 * allows (RFC 5322 §2.1.1); unfolding gives back the same text.
 */
function foldAt78(raw: string): string {
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

export function sevenBitOuterHeaders(fields: HeaderField[]): HeaderField[] {
  return fields.map((f) => {
    let raw = f.raw;
    if (hasEightBit(raw)) {
      const colon = raw.indexOf(':');
      const value = raw.slice(colon + 1).replace(/\r\n(?=[ \t])/g, '');
      raw = foldAt78(
        raw.slice(0, colon + 1) + encodeEightBitWords(value, ADDRESS_FIELDS.has(f.name)),
      );
    }
    raw = refold(raw);
    return raw === f.raw ? f : { name: f.name, raw };
  });
}
