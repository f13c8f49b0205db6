/**
 * The From: check of RFC 8550 §3: one mailbox, whose address the certificate names.
 */
import { RelayError } from '../plugin/relay-error';
import { readHeader, type HeaderRead } from '../plugin/header-reader';
import { fieldValue, parseHeaderBlock, stripComments, toCrlf, type HeaderField } from './mime';

/** Split an address list at commas that are outside quotes, comments and angle brackets. */
function splitList(value: string): string[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  let depth = 0;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && (quoted || depth > 0)) {
      current += c + (value[i + 1] ?? '');
      i++;
      continue;
    }
    if (quoted) quoted = c !== '"';
    else if (c === '"' && depth === 0) quoted = true;
    else if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth === 0 && c === '<') angle = true;
    else if (depth === 0 && c === '>') angle = false;
    else if (c === ',' && depth === 0 && !angle) {
      items.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  items.push(current);
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

/** The addr-spec of one mailbox: the part in angle brackets, or the whole mailbox. */
function addressOf(mailbox: string): string {
  const m = mailbox.trim();
  const open = m.endsWith('>') ? m.lastIndexOf('<') : -1;
  let spec = open >= 0 ? m.slice(open + 1, -1).trim() : m;
  // Drop an obsolete source route ("@a,@b:user@host").
  if (spec.startsWith('@') && spec.includes(':')) spec = spec.slice(spec.indexOf(':') + 1);
  return spec.trim();
}

/** Every mailbox address in an address-list field, lower-cased; groups are expanded. */
export function mailboxAddresses(value: string): string[] {
  const out: string[] = [];
  // Comments go first, with a scanner that knows quoted strings (linear in the input).
  for (let item of splitList(stripComments(value.replace(/\r\n/g, '')))) {
    // Group syntax, "name: a@x, b@y;", contributes its members.
    item = item.replace(/^[^<>"@,:]*:/, '').trim();
    if (item.endsWith(';')) item = item.slice(0, -1).trim();
    const address = item ? addressOf(item).toLowerCase() : '';
    if (address) out.push(address);
  }
  return out;
}

/** The one From: address of a message; throws no_from or multiple_from. */
export function singleFromAddress(headers: HeaderField[]): string {
  const fields = headers.filter((h) => h.name === 'from');
  if (fields.length === 0) throw new RelayError('no_from', 'the message has no From: header');
  if (fields.length > 1)
    throw new RelayError('multiple_from', 'the message has more than one From: header');
  const addresses = mailboxAddresses(fieldValue(fields[0]));
  if (addresses.length === 0) throw new RelayError('no_from', 'the From: header holds no address');
  if (addresses.length > 1) {
    throw new RelayError(
      'multiple_from',
      `the From: header holds ${addresses.length} addresses; one is allowed`,
    );
  }
  if (!/^[^@\s]+@[^@\s]+$/.test(addresses[0].replace(/^".*"@/, 'x@'))) {
    throw new RelayError('no_from', 'the From: header holds no valid address');
  }
  return addresses[0];
}

/** Throws from_mismatch unless the certificate names the From: address. */
export function checkFrom(headers: HeaderField[], certificateAddresses: string[]): string {
  const from = singleFromAddress(headers);
  if (!certificateAddresses.includes(from)) {
    const named = certificateAddresses.length
      ? certificateAddresses.join(', ')
      : 'no email address';
    throw new RelayError('from_mismatch', `From: is ${from}, but the certificate names ${named}`);
  }
  return from;
}

/**
 * The From: address of a raw message, for choosing the signing identity before signing.
 * Throws malformed_message, no_from or multiple_from.
 */
export function fromAddressOf(raw: Buffer, header: HeaderRead = readHeader(raw)): string {
  if (!header.blankLine || header.headerEnd === 0) {
    throw new RelayError('malformed_message', 'the message has no header block');
  }
  // The header's own text only: the body is never decoded here.
  const block = raw.toString('latin1', 0, header.headerEnd).replace(/\r?\n$/, '');
  return singleFromAddress(parseHeaderBlock(toCrlf(block), 'message header'));
}
