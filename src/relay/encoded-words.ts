/**
 * RFC 2047 encoded-words (`=?charset?B|Q?text?=`) decoded for display, as in the message
 * log's subjects. Japanese newsletters write their subjects this way, in UTF-8, ISO-2022-JP,
 * Shift_JIS or EUC-JP. Blanks between two adjacent encoded-words are dropped (RFC 2047
 * §6.2); a word that cannot be decoded (an unknown charset, bad base64 or Q, bytes that are
 * not text in its charset) is kept as written. Control characters become spaces, so the
 * result is one line.
 */

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;
const BLANKS = /^[ \t\r\n]*$/;

/** Charset names mail uses that the WHATWG decoder knows by another name. */
const CHARSET_ALIASES: Record<string, string> = {
  cp932: 'shift_jis',
  'x-ms-cp932': 'shift_jis',
  'shift-jis': 'shift_jis',
  eucjp: 'euc-jp',
  'x-euc': 'euc-jp',
  utf8: 'utf-8',
};

interface Word {
  /** The encoded-word as written. */
  raw: string;
  /** The blanks between it and the encoded-word before it in the run. */
  gap: string;
  /** The charset label, lower case, language suffix (RFC 2231 §5) removed. */
  charset: string;
  /** The decoded octets, or undefined when the B or Q text is malformed. */
  bytes: Uint8Array | undefined;
}

function decodeB(text: string): Uint8Array | undefined {
  const bare = text.replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(bare) || bare.length % 4 === 1) return undefined;
  if (text.length !== bare.length && text.length % 4 !== 0) return undefined;
  return Buffer.from(bare, 'base64');
}

function decodeQ(text: string): Uint8Array | undefined {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '_') out.push(0x20);
    else if (c === '=') {
      const pair = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(pair)) return undefined;
      out.push(parseInt(pair, 16));
      i += 2;
    } else out.push(c.charCodeAt(0));
  }
  return Uint8Array.from(out);
}

/** The octets as text in `charset`, or undefined when the charset is unknown or they are not. */
function textIn(charset: string, bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder(CHARSET_ALIASES[charset] ?? charset, { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function parseWord(m: RegExpMatchArray, gap: string): Word {
  const charset = m[1].replace(/\*.*$/, '').toLowerCase();
  const bytes = m[2].toUpperCase() === 'B' ? decodeB(m[3]) : decodeQ(m[3]);
  return { raw: m[0], gap, charset, bytes };
}

/** A piece of a run's text: decoded, or an encoded-word kept as written. */
interface Piece {
  text: string;
  decoded: boolean;
  gap: string;
}

/**
 * Adjacent words of one charset decoded together (some encoders split a character, or an
 * ISO-2022-JP shift, across two words); failing that, each word on its own.
 */
function decodeGroup(group: Word[]): Piece[] {
  if (group.every((w) => w.bytes)) {
    const text = textIn(group[0].charset, Buffer.concat(group.map((w) => w.bytes!)));
    if (text !== undefined) return [{ text, decoded: true, gap: group[0].gap }];
  }
  return group.map((w) => {
    const text = w.bytes && textIn(w.charset, w.bytes);
    return text === undefined
      ? { text: w.raw, decoded: false, gap: w.gap }
      : { text, decoded: true, gap: w.gap };
  });
}

/** A run of encoded-words with only blanks between them, as text. */
function decodeRun(words: Word[]): string {
  const pieces: Piece[] = [];
  for (let i = 0; i < words.length;) {
    let j = i + 1;
    while (j < words.length && words[j].charset === words[i].charset) j++;
    pieces.push(...decodeGroup(words.slice(i, j)));
    i = j;
  }
  // The blanks between two decoded words go (RFC 2047 §6.2); next to a word kept as
  // written they stay.
  return pieces
    .map((p, n) => (n > 0 && !(p.decoded && pieces[n - 1].decoded) ? p.gap : '') + p.text)
    .join('');
}

/** `value` with its encoded-words decoded; text outside them is kept as it is. */
export function decodeEncodedWords(value: string): string {
  let out = '';
  let run: Word[] = [];
  let last = 0;
  for (const m of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(last, m.index);
    const adjacent = run.length > 0 && BLANKS.test(between);
    if (!adjacent) {
      out += decodeRun(run) + between;
      run = [];
    }
    run.push(parseWord(m, adjacent ? between : ''));
    last = (m.index ?? 0) + m[0].length;
  }
  out += decodeRun(run) + value.slice(last);
  // eslint-disable-next-line no-control-regex -- control characters are what is replaced
  return out.replace(/[\x00-\x1f\x7f]/g, ' ');
}
