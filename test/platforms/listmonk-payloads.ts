/**
 * Postback bodies built the way listmonk's postback messenger marshals them
 * (internal/messenger/postback): Go field names, `attachments[].content` as base64 ([]byte),
 * `attachments[].header` as a textproto.MIMEHeader (canonical names, lists of values),
 * `campaign.headers` as a list of one-field objects.
 */
import { randomUUID } from 'node:crypto';

export interface Subscriber {
  uuid: string;
  email: string;
  name: string;
}

export const subscriber = (email: string, name: string): Subscriber => ({
  uuid: randomUUID(),
  email,
  name,
});

export function postback(o: {
  subscribers: Subscriber[];
  contentType?: 'html' | 'plain' | 'richtext' | 'markdown';
  body?: string;
  subject?: string;
  fromEmail?: string;
  campaignUuid?: string;
  headers?: Record<string, string>[];
  attachments?: { name: string; type: string; content: Buffer }[];
}) {
  const fromEmail = o.fromEmail ?? 'Example News <news@example.com>';
  return {
    subject: o.subject ?? 'Autumn news / 秋のお知らせ',
    content_type: o.contentType ?? 'html',
    body:
      o.body ??
      '<html><body><h1>秋のお知らせ</h1><p>Hello, our autumn news is here.</p>' +
        '<p><a href="https://lists.example.com/link/abc">Read more</a></p></body></html>',
    recipients: o.subscribers.map((s) => ({
      uuid: s.uuid,
      email: s.email,
      name: s.name,
      attribs: { city: 'Tokyo' },
      status: 'enabled',
    })),
    campaign: {
      from_email: fromEmail,
      uuid: o.campaignUuid ?? randomUUID(),
      name: 'Autumn campaign',
      headers: o.headers ?? [],
      tags: ['autumn'],
    },
    attachments: (o.attachments ?? []).map((a) => ({
      name: a.name,
      header: {
        'Content-Type': [a.type],
        'Content-Disposition': [`attachment; filename="${a.name}"`],
      },
      content: a.content.toString('base64'),
    })),
  };
}
