import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeBase64,
  decodeQuotedPrintable,
  encodeBase64,
  encodeQuotedPrintable,
} from './transfer-encoding';

/** A deterministic pseudo-random byte string (xorshift). */
function bytes(n: number, seed: number): string {
  let x = seed;
  let s = '';
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    s += String.fromCharCode(x & 0xff);
  }
  return s;
}

const lines = (s: string): string[] => s.split('\r\n');

describe('quoted-printable', () => {
  it('round-trips arbitrary octets, including lone CR and LF', () => {
    for (let seed = 1; seed < 40; seed++) {
      const input = bytes(500 + seed * 37, seed);
      assert.equal(decodeQuotedPrintable(encodeQuotedPrintable(input)), input);
    }
  });

  it('keeps CRLF as hard line breaks and lines within 76 characters', () => {
    const text = 'Grüße\r\n' + 'x'.repeat(300) + '\r\nend';
    const encoded = encodeQuotedPrintable(Buffer.from(text, 'utf8').toString('latin1'));
    assert.ok(lines(encoded).every((l) => l.length <= 76));
    assert.match(encoded, /^Gr=C3=BC=C3=9Fe\r\n/);
    assert.equal(Buffer.from(decodeQuotedPrintable(encoded), 'latin1').toString('utf8'), text);
  });

  it('escapes what transfer agents mangle: trailing blanks, "From " and "." at line start', () => {
    const encoded = encodeQuotedPrintable('a \r\nFrom here\r\n.\r\ntab\t');
    assert.equal(encoded, 'a=20\r\n=46rom here\r\n=2E\r\ntab=09');
    assert.equal(decodeQuotedPrintable(encoded), 'a \r\nFrom here\r\n.\r\ntab\t');
  });

  it('never starts an encoded line with "From ", "." or "-" (no fake delimiter)', () => {
    for (let pad = 60; pad < 80; pad++) {
      for (const input of ['y'.repeat(pad) + 'From me. .x', 'a'.repeat(pad) + '--b\r\n--b--']) {
        const encoded = encodeQuotedPrintable(input);
        for (const l of lines(encoded)) {
          assert.ok(!/^(From |\.|-)/.test(l), `pad ${pad}: ${l}`);
        }
        assert.equal(decodeQuotedPrintable(encoded), input);
      }
    }
  });

  it('decodes soft breaks, lower-case hex, and strips trailing blanks as RFC 2045 says', () => {
    assert.equal(decodeQuotedPrintable('ab=\r\ncd=3d=3D  \r\nx=ZZ'), 'abcd==\r\nx=ZZ');
  });
});

describe('base64', () => {
  it('writes 76-character CRLF lines and round-trips', () => {
    const input = bytes(5000, 7);
    const encoded = encodeBase64(input);
    const ls = lines(encoded.trimEnd());
    assert.ok(ls.slice(0, -1).every((l) => l.length === 76));
    assert.equal(decodeBase64(encoded), input);
  });

  it('decodes one long unwrapped line and ignores whitespace', () => {
    const input = bytes(3000, 9);
    const oneLine = Buffer.from(input, 'latin1').toString('base64');
    assert.equal(decodeBase64(oneLine.slice(0, 100) + ' \r\n ' + oneLine.slice(100)), input);
  });
});
