/**
 * Checks on a JSON body's text before it is parsed and turned into objects: nesting deeper
 * than MAX_JSON_DEPTH (class-transformer recurses per level, and a deeply nested body keeps
 * the event loop busy), and NUL characters in strings (PostgreSQL cannot store them, and no
 * field of this API needs one). One pass over the bytes, no allocation.
 */

export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** What is wrong with the JSON text, or undefined. Malformed JSON is left to the parser. */
export function jsonTextProblem(buf: Buffer, maxDepth = MAX_JSON_DEPTH): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === BACKSLASH) {
        // \u0000 (any case of the hex digits) is a NUL character
        if (buf[i + 1] === 0x75 && buf.toString('latin1', i + 2, i + 6) === '0000') {
          return 'a text field contains a NUL character (\\u0000), which is not allowed';
        }
        i++;
      } else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) {
        return `the JSON body is nested deeper than ${maxDepth} levels`;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

/** An error the JSON parser's `verify` hook throws: answered as 400 with this message. */
export class JsonBodyRefused extends Error {
  readonly status = 400;
  readonly expose = true;
}

/** express.json's `verify` option. */
export function verifyJsonText(_req: unknown, _res: unknown, buf: Buffer): void {
  const problem = jsonTextProblem(buf);
  if (problem) throw new JsonBodyRefused(problem);
}
