/**
 * Header fields outside the signature stay as the platform wrote them. Only where a field
 * would break the 7-bit, 998-octet rule of the output is it re-encoded or refolded, with
 * the same decoded meaning.
 */
import { encodeEightBitField, refold } from './header-encoding';
import type { HeaderField } from './mime';

export function sevenBitOuterHeaders(fields: HeaderField[]): HeaderField[] {
  return fields.map((f) => {
    const raw = refold(encodeEightBitField(f).raw);
    return raw === f.raw ? f : { name: f.name, raw };
  });
}
