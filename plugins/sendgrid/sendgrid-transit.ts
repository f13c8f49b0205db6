/**
 * What SendGrid is reported to do to a message in transit, for its loopback stand-in in the
 * tests: the X-SMTPAPI field is consumed, and a List-Unsubscribe field of
 * SENDGRID_LIST_UNSUBSCRIBE_LIMIT octets or more is MIME-encoded (RFC 2047, UTF-8, Q) and
 * folded, as seen on SendGrid-delivered mail (Zimbra-Community/list-unsubscribe-zimlet #8).
 */
import { SENDGRID_LIST_UNSUBSCRIBE_LIMIT } from './sendgrid.transport';

function qWords(value: string): string[] {
  const encoded = [...Buffer.from(value, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9!*+\-/]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : b === 0x20
          ? '_'
          : `=${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
  const words: string[] = [];
  // 75 octets per encoded-word (RFC 2047 §2): 12 for "=?UTF-8?Q?" and "?=".
  for (let i = 0; i < encoded.length;) {
    let end = Math.min(i + 63, encoded.length);
    while (encoded[end - 1] === '=' || encoded[end - 2] === '=') end--; // keep =XX whole
    words.push(`=?UTF-8?Q?${encoded.slice(i, end)}?=`);
    i = end;
  }
  return words;
}

export function sendgridTransit(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const fields = text
    .slice(0, end)
    .split(/\r\n(?![ \t])/)
    .filter((f) => !/^X-SMTPAPI\s*:/i.test(f))
    .map((f) => {
      if (!/^List-Unsubscribe\s*:/i.test(f)) return f;
      const unfolded = f.replace(/\r\n(?=[ \t])/g, '');
      if (Buffer.byteLength(unfolded, 'latin1') < SENDGRID_LIST_UNSUBSCRIBE_LIMIT) return f;
      const value = unfolded.slice(unfolded.indexOf(':') + 1).trim();
      return `List-Unsubscribe: ${qWords(value).join('\r\n ')}`;
    });
  return Buffer.from(fields.join('\r\n') + text.slice(end), 'latin1');
}
