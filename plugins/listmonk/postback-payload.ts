/**
 * The JSON listmonk's HTTP postback messenger posts (internal/messenger/postback in
 * listmonk): subject, content_type, body, recipients[{uuid, email, name, attribs, status}],
 * campaign {uuid, name, from_email, headers, tags} (null for some messages),
 * attachments[{name, header, content (base64)}]; from_email also at the top level in some
 * versions. Checked whole before anything is accepted: a bad payload spools nothing.
 */
import { RelayError } from '../../src/plugin/relay-error';

export interface PostbackRecipient {
  uuid: string;
  email: string;
  name: string;
}

export interface PostbackAttachment {
  name: string;
  /** MIME header of the part, each field a list of values (Go's textproto.MIMEHeader). */
  header: Record<string, string[]>;
  content: Buffer;
}

export interface Postback {
  subject: string;
  /** 'plain' is text; everything else (html, richtext, markdown, visual) arrives as HTML. */
  contentType: string;
  body: string;
  fromEmail: string;
  recipients: PostbackRecipient[];
  campaign?: { uuid: string; name: string; headers: Record<string, string>[] };
  attachments: PostbackAttachment[];
}

const MAILBOX = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+$/;

/** listmonk posts one recipient per message; a list this long is not a postback. */
export const MAX_RECIPIENTS = 1000;

function bad(field: string, what: string): never {
  throw new RelayError('invalid_request', `${field} ${what}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function text(o: Record<string, unknown>, field: string, path: string, optional = false): string {
  const v = o[field];
  if (v === undefined || v === null) {
    if (optional) return '';
    bad(path, 'is required');
  }
  if (typeof v !== 'string') bad(path, 'must be a string');
  return v;
}

function recipient(r: unknown, i: number): PostbackRecipient {
  const at = `recipients[${i}]`;
  if (!isObject(r)) bad(at, 'must be an object');
  const email = text(r, 'email', `${at}.email`).trim();
  if (!MAILBOX.test(email)) bad(`${at}.email`, `is not an email address: ${JSON.stringify(email)}`);
  return { uuid: text(r, 'uuid', `${at}.uuid`), email, name: text(r, 'name', `${at}.name`, true) };
}

function headers(v: unknown): Record<string, string>[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) bad('campaign.headers', 'must be a list of {"Name": "value"} objects');
  return v.map((h, i) => {
    if (!isObject(h) || Object.values(h).some((x) => typeof x !== 'string')) {
      bad(`campaign.headers[${i}]`, 'must be an object of header names to string values');
    }
    for (const [name, value] of Object.entries(h as Record<string, string>)) {
      const address = value.trim().replace(/^<(.*)>$/, '$1');
      if (name.toLowerCase() === 'return-path' && !MAILBOX.test(address)) {
        bad(
          `campaign.headers[${i}].Return-Path`,
          `is not an email address: ${JSON.stringify(value)}`,
        );
      }
    }
    return h as Record<string, string>;
  });
}

function attachment(a: unknown, i: number): PostbackAttachment {
  const at = `attachments[${i}]`;
  if (!isObject(a)) bad(at, 'must be an object');
  const content = text(a, 'content', `${at}.content`, true);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content) || content.length % 4 !== 0) {
    bad(`${at}.content`, 'must be base64');
  }
  const header: Record<string, string[]> = {};
  if (a.header !== undefined && a.header !== null) {
    if (!isObject(a.header)) bad(`${at}.header`, 'must be an object of header names to lists');
    for (const [k, vs] of Object.entries(a.header)) {
      if (!Array.isArray(vs) || vs.some((x) => typeof x !== 'string')) {
        bad(`${at}.header.${k}`, 'must be a list of strings');
      }
      header[k.toLowerCase()] = vs as string[];
    }
  }
  return {
    name: text(a, 'name', `${at}.name`),
    header,
    content: Buffer.from(content, 'base64'),
  };
}

/** The payload, checked; invalid_request naming the field otherwise. */
export function parsePostback(body: unknown): Postback {
  if (!isObject(body)) bad('the body', 'must be a JSON object as listmonk posts it');
  const campaign = body.campaign;
  if (campaign !== undefined && campaign !== null && !isObject(campaign)) {
    bad('campaign', 'must be an object or null');
  }
  const fromEmail =
    text(body, 'from_email', 'from_email', true) ||
    (campaign ? text(campaign, 'from_email', 'campaign.from_email', true) : '');
  if (!fromEmail) bad('from_email', 'is required (in the payload or in campaign.from_email)');
  if (!Array.isArray(body.recipients) || body.recipients.length === 0) {
    bad('recipients', 'must be a non-empty list');
  }
  if (body.recipients.length > MAX_RECIPIENTS) {
    bad(
      'recipients',
      `has ${body.recipients.length} entries; at most ${MAX_RECIPIENTS} per postback`,
    );
  }
  const attachments = body.attachments ?? [];
  if (!Array.isArray(attachments)) bad('attachments', 'must be a list or null');
  return {
    subject: text(body, 'subject', 'subject'),
    contentType: text(body, 'content_type', 'content_type'),
    body: text(body, 'body', 'body'),
    fromEmail,
    recipients: body.recipients.map(recipient),
    campaign: campaign
      ? {
          uuid: text(campaign, 'uuid', 'campaign.uuid'),
          name: text(campaign, 'name', 'campaign.name', true),
          headers: headers(campaign.headers),
        }
      : undefined,
    attachments: attachments.map(attachment),
  };
}
