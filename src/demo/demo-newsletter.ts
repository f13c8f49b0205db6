/**
 * The sample newsletter the demo sends: Japanese and English, multipart/alternative (text
 * and HTML, UTF-8), with the list headers a real marketing platform adds.
 */
import type { SendMailOptions } from 'nodemailer';
import { DEMO_SENDER } from './demo-pki';

export const DEMO_RECIPIENT = 'reader@example.net';
export const DEMO_SUBJECT = '【デモ】今月のお知らせ / Demo: this month’s news';

const TEXT = `デモ ニュース 今月号
Demo News, this month’s issue

こんにちは。smime-relay のデモへようこそ。
このメールは S/MIME で署名され、本文は一切変更されずに届きます。

Hello, and welcome to the smime-relay demo.
This message is signed with S/MIME and delivered without changing a byte of its body.

配信停止 / Unsubscribe: https://demo.example/unsubscribe?u=demo-reader
`;

const HTML = `<!DOCTYPE html>
<html lang="ja">
<head><meta charset="utf-8"><title>デモ ニュース / Demo News</title></head>
<body style="font-family: sans-serif; max-width: 600px; margin: auto">
  <h1>デモ ニュース <small>Demo News</small></h1>
  <p lang="ja">こんにちは。smime-relay のデモへようこそ。このメールは S/MIME で署名され、本文は一切変更されずに届きます。</p>
  <p lang="en">Hello, and welcome to the smime-relay demo. This message is signed with S/MIME
  and delivered without changing a byte of its body.</p>
  <p><a href="https://demo.example/offers?utm_source=newsletter&amp;utm_medium=email">今月の特集 / This month’s offers</a></p>
  <p style="font-size: small"><a href="https://demo.example/unsubscribe?u=demo-reader">配信停止 / Unsubscribe</a></p>
</body>
</html>
`;

export function demoNewsletter(): SendMailOptions {
  return {
    from: { name: 'デモ ニュース / Demo News', address: DEMO_SENDER },
    to: DEMO_RECIPIENT,
    envelope: { from: 'bounces@demo.example', to: [DEMO_RECIPIENT] },
    subject: DEMO_SUBJECT,
    text: TEXT,
    html: HTML,
    textEncoding: 'quoted-printable',
    list: { id: { url: 'news.demo.example', comment: 'Demo News' } },
    headers: {
      // One field with both ways (RFC 2369), and one-click unsubscribe (RFC 8058).
      'List-Unsubscribe':
        '<https://demo.example/unsubscribe?u=demo-reader>, ' +
        '<mailto:unsubscribe@demo.example?subject=unsubscribe>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}
