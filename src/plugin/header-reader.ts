/**
 * The one reader of a message's header block (RFC 5322 §2.2), used by the engine, intake,
 * DKIM, the List-Unsubscribe and one-click readers and the plugins. It works on the bytes:
 * the body is never copied or decoded. CRLF and bare-LF line breaks are both read; the
 * header ends at the first empty line. Lines that are not fields are not dropped silently:
 * they are listed in `problems`, for the engine to refuse and for lenient readers to skip.
 */

export interface HeaderFieldAt {
  /** The field name, lower-case. */
  name: string;
  /** The field as written, name and folding included, without its final line break (latin1). */
  text: string;
  /** Byte offsets in the message: the field's first byte, and just past its last. */
  start: number;
  end: number;
}

export interface HeaderRead {
  fields: HeaderFieldAt[];
  /** Offset just past the header's last line break: where the empty line starts. */
  headerEnd: number;
  /** Offset of the body's first byte (the message's length when there is no body). */
  bodyStart: number;
  /** Whether an empty line ends the header (else the whole message is header). */
  blankLine: boolean;
  /** Whether the header's line breaks are CRLF (a header without any counts as CRLF). */
  crlf: boolean;
  /** Lines that are not header fields, as sentences with their 1-based line numbers. */
  problems: string[];
}

const FIELD_START = /^([!-9;-~]+)[ \t]*:/;
const LF = 0x0a;
const CR = 0x0d;

/** The header block of `raw`, field by field. */
export function readHeader(raw: Buffer): HeaderRead {
  const fields: HeaderFieldAt[] = [];
  const problems: string[] = [];
  let crlf = true;
  let sawBreak = false;
  let pos = 0;
  let line = 0;
  while (pos < raw.length) {
    const lf = raw.indexOf(LF, pos);
    const next = lf < 0 ? raw.length : lf + 1;
    const end = lf > pos && raw[lf - 1] === CR ? lf - 1 : lf < 0 ? raw.length : lf;
    if (lf >= 0 && !sawBreak) {
      sawBreak = true;
      crlf = end !== lf;
    }
    line++;
    if (end === pos) {
      // The empty line: the header ends here.
      return { fields, headerEnd: pos, bodyStart: next, blankLine: true, crlf, problems };
    }
    const first = raw[pos];
    if (first === 0x20 || first === 0x09) {
      const last = fields[fields.length - 1];
      if (last) {
        last.text = raw.toString('latin1', last.start, end);
        last.end = end;
      } else problems.push(`line ${line} is a continuation line before any field`);
    } else {
      const text = raw.toString('latin1', pos, end);
      const m = FIELD_START.exec(text);
      if (m) fields.push({ name: m[1].toLowerCase(), text, start: pos, end });
      else problems.push(`line ${line} is not a header field ("Name: value")`);
    }
    pos = next;
  }
  return { fields, headerEnd: raw.length, bodyStart: raw.length, blankLine: false, crlf, problems };
}

/** A field's value: everything after the colon, unfolded and trimmed. */
export function fieldValueOf(field: Pick<HeaderFieldAt, 'text'>): string {
  return field.text
    .slice(field.text.indexOf(':') + 1)
    .replace(/\r?\n(?=[ \t])/g, '')
    .trim();
}

/** The values of every field called `name` (any case), in order. */
export function valuesOf(header: Pick<HeaderRead, 'fields'>, name: string): string[] {
  const n = name.toLowerCase();
  return header.fields.filter((f) => f.name === n).map(fieldValueOf);
}
