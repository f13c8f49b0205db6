/**
 * Header fields outside the signature stay as the platform wrote them, as long as they
 * survive transit. They are held to the same rules as the signed entity's part headers
 * (7-bit, no NUL or bare CR, no line over 998 octets), with one repair: 8-bit text is
 * re-encoded as RFC 2047 encoded-words where RFC 2047 §5 allows them (unstructured fields
 * and display names), with the same decoded meaning. Anything else that is not 7-bit is
 * refused, never rewritten into a form its readers would not parse.
 *
 * Internationalised addresses (RFC 6531/6532: `josé@example.com`, `support@例え.jp`) are
 * refused with `international_address`: an address cannot be encoded, and the relay does
 * not yet carry SMTPUTF8 from the platform through to every upstream. Domains in A-label
 * form (`xn--…`) are plain ASCII and unaffected. See docs/signing.md.
 */
import { RelayError } from '../plugin/relay-error';
import { ADDRESS_FIELDS, encodeEightBitField, hasEightBit, refold } from './header-encoding';
import { mailboxAddresses } from './address';
import { fieldValue, type HeaderField } from './mime';

/**
 * Structured fields (RFC 5322 §3.6, RFC 2369, RFC 6376, RFC 2045): their syntax has no
 * place for an encoded-word, so 8-bit there cannot be repaired.
 */
const STRUCTURED = new Set([
  'date',
  'message-id',
  'in-reply-to',
  'references',
  'resent-date',
  'resent-message-id',
  'return-path',
  'received',
  'mime-version',
  'list-unsubscribe',
  'list-unsubscribe-post',
  'list-help',
  'list-subscribe',
  'list-post',
  'list-owner',
  'list-archive',
  'dkim-signature',
  'arc-seal',
  'arc-message-signature',
  'arc-authentication-results',
  'authentication-results',
]);

// eslint-disable-next-line no-control-regex -- NUL and a bare CR are exactly what is refused
const BROKEN_OCTET = /\x00|\r(?!\n)/;

const malformed = (message: string) => new RelayError('malformed_message', message);
const nameOf = (f: HeaderField): string => f.raw.slice(0, f.raw.indexOf(':')).trim();

/** The 8-bit addresses of an address field (display names already encoded), as written. */
function eightBitAddresses(field: HeaderField): string[] {
  const value = fieldValue(field);
  const lower = value.toLowerCase(); // latin1: the same length, so offsets carry over
  return mailboxAddresses(value)
    .filter(hasEightBit)
    .map((a) => {
      const at = lower.indexOf(a);
      return at < 0 ? a : value.slice(at, at + a.length);
    });
}

/** The outer fields, made 7-bit where RFC 2047 allows it; malformed_message otherwise. */
export function transitSafeOuterHeaders(fields: HeaderField[]): HeaderField[] {
  return fields.map((f) => {
    if (BROKEN_OCTET.test(f.raw)) {
      throw malformed(`the ${nameOf(f)} field holds a NUL octet or a bare CR`);
    }
    if (hasEightBit(f.raw) && STRUCTURED.has(f.name)) {
      throw malformed(
        `the ${nameOf(f)} field has 8-bit octets; it cannot carry encoded-words ` +
          '(RFC 2047 §5), so it must be 7-bit as sent',
      );
    }
    const encoded = encodeEightBitField(f);
    if (hasEightBit(encoded.raw)) {
      const addresses = ADDRESS_FIELDS.has(f.name) ? eightBitAddresses(encoded) : [];
      if (addresses.length > 0) {
        const shown = Buffer.from(addresses[0], 'latin1').toString('utf8');
        throw new RelayError(
          'international_address',
          `the ${nameOf(f)} field has an address with non-ASCII characters (${shown}); ` +
            'write its domain in A-label form (xn--…); a non-ASCII local part needs SMTPUTF8',
        );
      }
      throw malformed(`the ${nameOf(f)} field has 8-bit octets that cannot be encoded`);
    }
    const raw = refold(encoded.raw);
    if (raw.split('\r\n').some((l) => l.length > 998)) {
      throw malformed(`the ${nameOf(f)} field has a line over 998 octets with no blank to fold at`);
    }
    return raw === f.raw ? f : { name: f.name, raw };
  });
}
