/**
 * A message shaped the way Mautic 5 hands it to its mailer DSN: tracking pixel and
 * rewritten links already in the HTML, a text alternative, List-Unsubscribe with
 * One-Click, Precedence: Bulk and X-EMAIL-ID (the id of the Mautic email).
 */
import { randomUUID } from 'node:crypto';

export const MAUTIC_EMAIL_ID = '7';

export interface MauticShape {
  /** The unsubscribe link's form: `/email/unsubscribe/{idHash}` up to Mautic 5.0, with
   * `/{urlEmail}/{secretHash}` after it from 5.1.0. */
  version?: '5.0' | '5.1';
  /** Whether X-EMAIL-ID is there (default yes). */
  emailIdHeader?: boolean;
}

export function mauticMessage(
  to: string,
  idHash = '6571f0a2b3c4d',
  shape: MauticShape = {},
): Buffer {
  const boundary = `_=_symfony_${Date.now()}_${Math.floor(Math.random() * 1e9)}=_`;
  const site = 'https://mautic.example.com';
  const unsubscribe =
    shape.version === '5.1'
      ? `${site}/email/unsubscribe/${idHash}/${encodeURIComponent(to)}/8f14e45fceea167a5a36dedd4bea2543`
      : `${site}/email/unsubscribe/${idHash}`;
  const html =
    `<html><body><p>Hello,</p><p>Our <a href=3D"${site}/r/9f2c8b?ct=3DYToxOntzOjY6InNv=\r\n` +
    `dXJjZSI7fQ%3D%3D">winter offer</a> is here.</p>` +
    `<img height=3D"1" width=3D"1" src=3D"${site}/email/${idHash}.gif" alt=3D"" />=\r\n` +
    `<p><a href=3D"${unsubscribe}">Unsubscribe</a></p></body></html>\r\n`;
  return Buffer.from(
    [
      `Message-ID: <${randomUUID().replace(/-/g, '')}@mautic.example.com>`,
      'Date: Sat, 28 Nov 2026 10:00:00 +0000',
      'Subject: Winter offer',
      'From: Example News <news@example.com>',
      `To: ${to}`,
      'Reply-To: news@example.com',
      ...(shape.emailIdHeader === false ? [] : [`X-EMAIL-ID: ${MAUTIC_EMAIL_ID}`]),
      `List-Unsubscribe: <${unsubscribe}>`,
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
      'Precedence: Bulk',
      'MIME-Version: 1.0',
      `Content-Type: multipart/alternative; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Hello,',
      '',
      `Our winter offer is here: ${site}/r/9f2c8b`,
      '',
      `--${boundary}`,
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      html,
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
}
