/**
 * The List-Unsubscribe field (RFC 2369) of a finished message: read its links, and write a
 * new value in place of the old, leaving every other byte of the message alone. Works on the
 * outer header only, which lies outside the S/MIME signature.
 */

export interface ListUnsubscribeField {
  /** Offset of the field's first byte and just past its last (before its CRLF). */
  start: number;
  end: number;
  /** The unfolded field as written, name included. */
  unfolded: string;
  /** The links inside angle brackets, in order. */
  links: string[];
}

const FIELD = /^List-Unsubscribe[ \t]*:/im;

/** The message's one List-Unsubscribe field, or undefined when it has none or several. */
export function findListUnsubscribe(raw: Buffer): ListUnsubscribeField | undefined {
  const text = raw.toString('latin1');
  const headerEnd = text.indexOf('\r\n\r\n');
  const header = headerEnd < 0 ? text : text.slice(0, headerEnd + 2);
  const m = FIELD.exec(header);
  if (!m || FIELD.exec(header.slice(m.index + m[0].length))) return undefined;
  let end = header.indexOf('\r\n', m.index);
  while (end >= 0 && /[ \t]/.test(header[end + 2] ?? '')) end = header.indexOf('\r\n', end + 2);
  if (end < 0) end = header.length;
  const unfolded = header.slice(m.index, end).replace(/\r\n(?=[ \t])/g, '');
  const value = unfolded.slice(unfolded.indexOf(':') + 1);
  const links = [...value.matchAll(/<([^>]*)>/g)].map((l) => l[1].replace(/\s+/g, ''));
  return { start: m.index, end, unfolded, links };
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
