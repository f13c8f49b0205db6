/**
 * One RFC 5322 message per postback recipient, composed with nodemailer's MailComposer:
 * From, To with the subscriber's name, Subject, the body as HTML or text, the attachments,
 * the campaign's header fields, a Message-ID and Date, and what the postback leaves out
 * but mailbox providers require of bulk mail: List-Unsubscribe with One-Click (RFC 8058)
 * and listmonk's X-Listmonk-Campaign / X-Listmonk-Subscriber.
 */
import { createHash } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import type Mail from 'nodemailer/lib/mailer';
import type { Postback, PostbackAttachment, PostbackRecipient } from './postback-payload';

/** Fields the message's own structure decides; a campaign header cannot replace them. */
const STRUCTURAL = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'list-unsubscribe',
  'list-unsubscribe-post',
  'x-listmonk-campaign',
  'x-listmonk-subscriber',
]);

export interface ComposedMessage {
  recipient: PostbackRecipient;
  raw: Buffer;
  envelopeFrom: string;
  /** The same campaign, subscriber and content give the same key (without a campaign: that day). */
  idempotencyKey: string;
}

function addressOf(from: string): string {
  const m = /<([^<>]+)>\s*$/.exec(from);
  return (m ? m[1] : from).trim();
}

function attachmentOf(a: PostbackAttachment): Mail.Attachment {
  const type = a.header['content-type']?.[0];
  const disposition = a.header['content-disposition']?.[0] ?? '';
  const cid = a.header['content-id']?.[0]?.replace(/^<|>$/g, '');
  return {
    filename: a.name,
    content: a.content,
    ...(type ? { contentType: type } : {}),
    contentDisposition: /^\s*inline/i.test(disposition) ? 'inline' : 'attachment',
    ...(cid ? { cid } : {}),
  };
}

/** The digest of everything that makes this recipient's message what it is. */
function contentDigest(p: Postback, r: PostbackRecipient): string {
  const h = createHash('sha256');
  const part = (s: string | Buffer): void => {
    h.update(String(Buffer.byteLength(s)))
      .update(':')
      .update(s);
  };
  for (const s of [p.fromEmail, p.subject, p.contentType, p.body, r.uuid, r.email, r.name]) part(s);
  part(JSON.stringify(p.campaign ?? null));
  for (const a of p.attachments) {
    part(a.name);
    part(JSON.stringify(a.header));
    part(a.content);
  }
  return h.digest('hex');
}

/** The message for one recipient of the postback (one at a time: attachments can be large). */
export async function composeMessage(
  p: Postback,
  r: PostbackRecipient,
  rootUrl: string,
): Promise<ComposedMessage> {
  const fromAddress = addressOf(p.fromEmail);
  const domain = fromAddress.split('@').pop() ?? 'localhost';
  const campaignHeaders = (p.campaign?.headers ?? []).flatMap((h) => Object.entries(h));
  const returnPath = campaignHeaders.find(([k]) => k.toLowerCase() === 'return-path')?.[1];
  const extra = campaignHeaders
    .filter(([k]) => !STRUCTURAL.has(k.toLowerCase()) && k.toLowerCase() !== 'return-path')
    .map(([key, value]) => ({ key, value }));
  const digest = contentDigest(p, r);
  const listHeaders = p.campaign
    ? [
        {
          key: 'List-Unsubscribe',
          value: `<${rootUrl}/subscription/${p.campaign.uuid}/${r.uuid}>`,
        },
        { key: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
        { key: 'X-Listmonk-Campaign', value: p.campaign.uuid },
      ]
    : [];
  const composer = new MailComposer({
    from: p.fromEmail,
    to: r.name ? { name: r.name, address: r.email } : r.email,
    subject: p.subject,
    ...(p.contentType !== 'plain' ? { html: p.body } : { text: p.body }),
    attachments: p.attachments.map(attachmentOf),
    messageId: `<${digest.slice(0, 32)}@${domain}>`,
    date: new Date(),
    headers: [...extra, ...listHeaders, { key: 'X-Listmonk-Subscriber', value: r.uuid }],
  });
  return {
    recipient: r,
    raw: await composer.compile().build(),
    envelopeFrom: returnPath ? addressOf(returnPath) : fromAddress,
    idempotencyKey: p.campaign
      ? `listmonk:${p.campaign.uuid}:${r.uuid}:${digest.slice(0, 32)}`
      : // Without a campaign (a transactional message) the same text may rightly be sent
        // again another day: a retried postback is recognised within the day.
        `listmonk:tx:${new Date().toISOString().slice(0, 10)}:${r.uuid}:${digest.slice(0, 32)}`,
  };
}

/** Every recipient's message (for tests and small postbacks). */
export function composeMessages(p: Postback, rootUrl: string): Promise<ComposedMessage[]> {
  return Promise.all(p.recipients.map((r) => composeMessage(p, r, rootUrl)));
}
