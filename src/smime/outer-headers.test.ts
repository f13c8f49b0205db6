import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transitSafeOuterHeaders } from './outer-headers';
import type { HeaderField } from './mime';

const field = (name: string, value: string): HeaderField => ({
  name: name.toLowerCase(),
  raw: `${name}: ${Buffer.from(value, 'utf8').toString('latin1')}`,
});

/** Decode RFC 2047 B-encoded words (and the blanks between adjacent words) back to text. */
function decodeWords(raw: string): string {
  return raw
    .replace(/\r\n(?=[ \t])/g, '') // unfold (RFC 5322 §2.2.3)
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?B\?([^?]*)\?=/gi, (_, _cs, b64) =>
      Buffer.from(b64, 'base64').toString('latin1'),
    );
}

describe('outer header fields', () => {
  it('keeps 7-bit fields exactly as they are', () => {
    const fields = [field('Subject', 'Weekly news'), field('X-Campaign', '42')];
    const out = transitSafeOuterHeaders(fields);
    assert.equal(out[0], fields[0]);
    assert.equal(out[1], fields[1]);
  });

  it('turns a raw UTF-8 Subject into encoded-words with the same text', () => {
    const text = 'Grüße aus Köln – 春のセール 🌸';
    const [out] = transitSafeOuterHeaders([field('Subject', text)]);
    assert.ok(!/[\x80-\xff]/.test(out.raw), out.raw);
    assert.ok(
      out.raw.split('\r\n').every((l) => l.length <= 78),
      out.raw,
    );
    const decoded = Buffer.from(decodeWords(out.raw.slice('Subject: '.length)), 'latin1');
    assert.equal(decoded.toString('utf8'), text);
  });

  it('keeps quotation marks in unstructured text', () => {
    const text = 'He said "héllo" today';
    const [out] = transitSafeOuterHeaders([field('Subject', text)]);
    const decoded = Buffer.from(decodeWords(out.raw.slice('Subject: '.length)), 'latin1');
    assert.equal(decoded.toString('utf8'), text);
  });

  it('refuses to rewrite an 8-bit field longer than 16 KB (the work stays linear)', () => {
    assert.throws(
      () => transitSafeOuterHeaders([field('Subject', 'é' + 'x'.repeat(80_000))]),
      (e: unknown) => (e as { code?: string }).code === 'malformed_message',
    );
  });

  it('encodes only the display name of an address field, never the address', () => {
    const [out] = transitSafeOuterHeaders([
      field('From', '"Müller Nachrichten" <news@example.com>'),
    ]);
    assert.ok(!/[\x80-\xff]/.test(out.raw), out.raw);
    assert.match(out.raw, /<news@example\.com>$/);
    const decoded = Buffer.from(decodeWords(out.raw.slice('From: '.length)), 'latin1');
    assert.equal(decoded.toString('utf8'), 'Müller Nachrichten <news@example.com>');
  });

  it('refolds a header line over 998 octets at a blank', () => {
    const long = Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ');
    const [out] = transitSafeOuterHeaders([field('X-Long', long)]);
    assert.ok(out.raw.split('\r\n').every((l) => l.length <= 998));
    assert.equal(out.raw.replace(/\r\n/g, ''), `X-Long: ${long}`);
  });
});
