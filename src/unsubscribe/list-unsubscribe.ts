/**
 * The List-Unsubscribe field (RFC 2369) of a finished message: read its links, and write a
 * new value in place of the old, leaving every other byte of the message alone. Works on the
 * outer header only, which lies outside the S/MIME signature.
 */
import { fieldValueOf, readHeader } from '../plugin/header-reader';

export interface ListUnsubscribeField {
  /** Offset of the field's first byte and just past its last (before its CRLF). */
  start: number;
  end: number;
  /** The unfolded field as written, name included. */
  unfolded: string;
  /** The links inside angle brackets, in order. */
  links: string[];
}

/** The message's one List-Unsubscribe field, or undefined when it has none or several. */
export function findListUnsubscribe(raw: Buffer): ListUnsubscribeField | undefined {
  const found = readHeader(raw).fields.filter((f) => f.name === 'list-unsubscribe');
  if (found.length !== 1) return undefined;
  const [f] = found;
  const unfolded = f.text.replace(/\r?\n(?=[ \t])/g, '');
  const links = [...fieldValueOf(f).matchAll(/<([^>]*)>/g)].map((l) => l[1].replace(/\s+/g, ''));
  return { start: f.start, end: f.end, unfolded, links };
}

/** The field's length in octets as a provider measures it: one unfolded line. */
export const fieldLength = (f: ListUnsubscribeField): number => Buffer.byteLength(f.unfolded);

/** `raw` with the field replaced by `List-Unsubscribe: <a>, <b>` (one line). */
export function replaceListUnsubscribe(
  raw: Buffer,
  field: ListUnsubscribeField,
  links: string[],
): Buffer {
  const line = `List-Unsubscribe: ${links.map((l) => `<${l}>`).join(', ')}`;
  return Buffer.concat([
    raw.subarray(0, field.start),
    Buffer.from(line, 'latin1'),
    raw.subarray(field.end),
  ]);
}
