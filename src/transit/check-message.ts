/**
 * The message a transit check sends: shaped like a newsletter (text and HTML alternatives,
 * quoted-printable with soft line breaks, Japanese and English text, a link and
 * List-Unsubscribe), because that is what providers rewrite: they re-wrap encoded lines,
 * add footers and tracking, re-encode 8-bit text. It carries the check id in a header of its
 * own, by which it is found in the seed mailbox.
 */
import { CHECK_HEADER } from './seed-mailbox';

const qp = (text: string): string => {
  // Quoted-printable (RFC 2045 §6.7) with lines of at most 76 characters.
  const bytes = Buffer.from(text.replace(/\n/g, '\r\n'), 'utf8');
  const out: string[] = [];
  let line = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x0d && bytes[i + 1] === 0x0a) {
      out.push(line);
      line = '';
      i++;
      continue;
    }
    const plain = (b >= 33 && b <= 126 && b !== 61) || (b === 32 && bytes[i + 1] !== 0x0d);
    const piece = plain
      ? String.fromCharCode(b)
      : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
    if (line.length + piece.length > 75) {
      out.push(`${line}=`);
      line = '';
    }
    line += piece;
  }
  out.push(line);
  return out.join('\r\n');
};

const date = (d: Date): string => d.toUTCString().replace('GMT', '+0000');

export function checkMessage(o: { checkId: string; from: string; to: string; at: Date }): Buffer {
  const boundary = `check-${o.checkId}`;
  const domain = o.from.slice(o.from.lastIndexOf('@') + 1);
  const text =
    'smime-relay transit check\n\n' +
    'この配信経路で署名が保たれるかを確認するためのテストメッセージです。\n' +
    'This message checks that the signature survives the delivery path unchanged: ' +
    'long lines, quoted-printable soft breaks, Japanese text and a link ' +
    'https://example.com/newsletter?utm_source=transit-check&utm_medium=email.\n';
  const html =
    '<!doctype html><html><body style="font-family:sans-serif">' +
    '<h1>smime-relay transit check</h1>' +
    '<p>この配信経路で署名が保たれるかを確認するためのテストメッセージです。</p>' +
    '<p>This message checks that the signature survives the delivery path unchanged. ' +
    '<a href="https://example.com/newsletter?utm_source=transit-check&amp;utm_medium=email">A link</a> ' +
    'that a tracking service would rewrite.</p></body></html>\n';
  const lines = [
    `From: <${o.from}>`,
    `To: <${o.to}>`,
    `Subject: smime-relay transit check ${o.checkId.slice(0, 8)}`,
    `Date: ${date(o.at)}`,
    `Message-ID: <transit-${o.checkId}@${domain}>`,
    `${CHECK_HEADER}: ${o.checkId}`,
    `List-Unsubscribe: <mailto:${o.from}?subject=unsubscribe>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    qp(text),
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    qp(html),
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}
