// Proves the content checkers can fail (the corpus itself is checked in test/fixtures/newsletters.test.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, before, after } from 'node:test';
import { promisify } from 'node:util';
import { base64Lines, seededBytes, withCrlf } from '../fixtures/newsletter-parts';
import { newsletterByName, newsletterCorpus } from '../fixtures/newsletters';
import {
  assertContentPreserved,
  assertOuterHeadersPreserved,
  assertTransitSafe,
  extractOpaqueContent,
  headerFields,
} from './content';

const run = promisify(execFile);
const latin1 = (b: Buffer): string => b.toString('latin1');
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const fixture = (name: string): Buffer => newsletterByName(name).raw;

/** Replaces the single occurrence of `from` in `raw` (fails if it is absent or repeated). */
function mutate(raw: Buffer, from: string, to: string): Buffer {
  const needle = Buffer.from(from, 'utf8');
  const at = raw.indexOf(needle);
  assert.ok(
    at >= 0 && raw.indexOf(needle, at + 1) < 0,
    `expected exactly one ${JSON.stringify(from)}`,
  );
  return Buffer.concat([
    raw.subarray(0, at),
    Buffer.from(to, 'utf8'),
    raw.subarray(at + needle.length),
  ]);
}

/** Splits a message the way the engine is specified to: outer (non-Content-*) vs signed entity. */
function splitForSigning(original: Buffer): { outer: string; inner: Buffer } {
  const s = latin1(withCrlf(original));
  const end = s.indexOf('\r\n\r\n');
  const fields = headerFields(original);
  const isContent = (raw: string): boolean => /^content-/i.test(raw);
  let outer = fields
    .filter((f) => !isContent(f.raw))
    .map((f) => f.raw + '\r\n')
    .join('');
  if (!/^mime-version:/im.test(outer)) outer += 'MIME-Version: 1.0\r\n';
  const content = fields
    .filter((f) => isContent(f.raw))
    .map((f) => f.raw + '\r\n')
    .join('');
  return { outer, inner: bytes(content + '\r\n' + s.slice(end + 4)) };
}

/** A structurally correct detached message with a dummy signature (no crypto, no re-encoding). */
function simulateDetached(original: Buffer, opts: { withSignature?: boolean } = {}): Buffer {
  const { outer, inner } = splitForSigning(original);
  const b = 'sig-3f0c9a';
  const p7s =
    'Content-Type: application/pkcs7-signature; name="smime.p7s"\r\n' +
    'Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="smime.p7s"\r\n\r\n' +
    base64Lines(seededBytes(700, 7), 76).replace(/\n/g, '\r\n') +
    `\r\n--${b}`;
  return Buffer.concat([
    bytes(
      outer +
        'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;\r\n' +
        ` boundary="${b}"\r\n\r\nThis is an S/MIME signed message\r\n\r\n--${b}\r\n`,
    ),
    inner,
    bytes(`\r\n--${b}\r\n` + (opts.withSignature === false ? '' : p7s) + '--\r\n'),
  ]);
}

const opensslDir: { path?: string } = {};

/** A real opaque signature made with the openssl CLI, outer headers put back on top. */
async function opensslOpaque(original: Buffer): Promise<{ signed: Buffer; inner: Buffer }> {
  const dir = opensslDir.path ?? assert.fail('openssl not set up');
  const { outer, inner } = splitForSigning(original);
  await writeFile(join(dir, 'inner.eml'), inner);
  const args = [
    'cms',
    '-sign',
    '-nodetach',
    '-binary',
    '-md',
    'sha256',
    '-in',
    join(dir, 'inner.eml'),
  ];
  args.push(
    '-signer',
    join(dir, 'cert.pem'),
    '-inkey',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'out.eml'),
  );
  await run('openssl', args);
  const out = latin1(await readFile(join(dir, 'out.eml'))).replace(/^MIME-Version: 1\.0\r?\n/, '');
  return { signed: withCrlf(bytes(outer + out)), inner };
}

describe('assertContentPreserved', () => {
  it('accepts a faithful detached wrapping of every corpus fixture', async () => {
    for (const n of newsletterCorpus())
      await assertContentPreserved(n.raw, simulateDetached(n.raw));
  });

  const broken: [fixture: string, from: string, to: string, message: RegExp][] = [
    ['listmonk-alternative-qp-crlf', 'Preferences</a>', 'Preferencez</a>', /html differs/],
    ['edge-lines-7bit', 'this week is all', 'this weak is all', /text differs/],
    ['edge-lines-7bit', 'Hello subscriber,   \r\n', 'Hello subscriber,\r\n', /text differs/],
    ['latin1-qp-single-part', '=D6ffnungszeiten', '=C3=96ffnungszeiten', /text differs/],
    [
      'iso-2022-jp',
      'charset=ISO-2022-JP',
      'charset=utf-8',
      /text differs.*\n.*\n.*\n.*charset: expected ISO-2022-JP/,
    ],
    [
      'related-inline-images',
      'filename="logo.png"',
      'filename="logo2.png"',
      /filename: expected "logo.png", got "logo2.png"/,
    ],
    [
      'related-inline-images',
      '<logo.7f3a@news.example.com>',
      '<logo.7f3b@news.example.com>',
      /cid: expected/,
    ],
    [
      'related-inline-images',
      'inline; filename="banner.jpg"',
      'attachment; filename="banner.jpg"',
      /contentDisposition/,
    ],
    [
      'mautic-mixed-related-alternative',
      'multipart/related',
      'multipart/mixed',
      /MIME structure differs/,
    ],
    // mailparser guesses application/pdf from the .pdf filename, only the outline notices this
    [
      'mixed-pdf-attachment',
      'application/pdf',
      'application/octet-stream',
      /2=application\/octet-stream/,
    ],
  ];
  for (const [name, from, to, message] of broken) {
    it(`rejects ${name}: ${JSON.stringify(from)} → ${JSON.stringify(to)}`, async () => {
      const original = fixture(name);
      const signed = simulateDetached(mutate(original, from, to));
      await assert.rejects(assertContentPreserved(original, signed), message);
    });
  }

  it('rejects a dropped attachment and a changed attachment byte', async () => {
    const original = fixture('mixed-pdf-attachment');
    const s = latin1(original);
    const start = s.indexOf('--mixed-pdf-5e21\r\nContent-Type: application/pdf');
    const dropped = bytes(s.slice(0, start) + s.slice(s.indexOf('--mixed-pdf-5e21--')));
    await assert.rejects(
      assertContentPreserved(original, simulateDetached(dropped)),
      /attachment count: expected 1/,
    );
    const pos = s.indexOf('\r\n', start + 2000) + 10;
    const flipped = bytes(s.slice(0, pos) + (s[pos] === 'A' ? 'B' : 'A') + s.slice(pos + 1));
    await assert.rejects(
      assertContentPreserved(original, simulateDetached(flipped)),
      /content differs: 49152 bytes/,
    );
  });

  it('rejects a detached message without its signature part', async () => {
    const original = fixture('listmonk-alternative-qp-crlf');
    const unsigned = simulateDetached(original, { withSignature: false });
    await assert.rejects(
      assertContentPreserved(original, unsigned),
      /one application\/pkcs7-signature part/,
    );
  });

  it('accepts and rejects opaque inner entities passed by the caller', async () => {
    const original = fixture('utf8-8bit-alternative');
    const { inner } = splitForSigning(original);
    await assertContentPreserved(original, Buffer.alloc(0), {
      format: 'opaque',
      innerEntity: inner,
    });
    const changed = mutate(inner, 'Köln!\r\n', 'Koln!\r\n');
    await assert.rejects(
      assertContentPreserved(original, Buffer.alloc(0), { format: 'opaque', innerEntity: changed }),
      /text differs/,
    );
  });
});

describe('with a real openssl signature', () => {
  before(async () => {
    try {
      const dir = await mkdtemp(join(tmpdir(), 'content-test-'));
      await run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        '/CN=Example News/emailAddress=news@example.com',
        '-days',
        '2',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]);
      opensslDir.path = dir;
    } catch {
      opensslDir.path = undefined;
    }
  });
  after(async () => {
    if (opensslDir.path) await rm(opensslDir.path, { recursive: true, force: true });
  });

  it('extractOpaqueContent returns the exact eContent; the checkers accept the result', async (t) => {
    if (!opensslDir.path) return t.skip('openssl CLI not available');
    for (const name of [
      'utf8-8bit-alternative',
      'mautic-mixed-related-alternative',
      'no-mime-ascii',
    ]) {
      const original = fixture(name);
      const { signed, inner } = await opensslOpaque(original);
      assert.ok((await extractOpaqueContent(signed)).equals(inner), name);
      await assertContentPreserved(original, signed);
      assertOuterHeadersPreserved(original, signed);
      assertTransitSafe(signed);
      const [head, body] = latin1(signed).split('\r\n\r\n');
      const der = Buffer.from(body, 'base64');
      const at = der.indexOf(inner.subarray(0, 64));
      assert.ok(at > 0, 'eContent found in the DER');
      der[at + 32] ^= 1;
      const tampered = bytes(`${head}\r\n\r\n${base64Lines(der, 64).replace(/\n/g, '\r\n')}\r\n`);
      await assert.rejects(extractOpaqueContent(tampered), /openssl cms -verify failed/);
    }
  });
});

describe('assertOuterHeadersPreserved', () => {
  const original = fixture('listmonk-alternative-qp-crlf');
  const signed = simulateDetached(original);

  it('accepts a faithful wrapping of every corpus fixture', () => {
    for (const n of newsletterCorpus()) assertOuterHeadersPreserved(n.raw, simulateDetached(n.raw));
  });

  const broken: [what: string, change: (s: string) => string, message: RegExp][] = [
    [
      'reordered To / Reply-To',
      (s) => s.replace(/(To: .*\r\n)(Reply-To: .*\r\n)/, '$2$1'),
      /in order/,
    ],
    ['unfolded List-Unsubscribe', (s) => s.replace('>,\r\n <https', '>, <https'), /verbatim/],
    ['refolded Subject', (s) => s.replace('five\r\n tips', 'five tips'), /verbatim/],
    [
      'duplicated Precedence',
      (s) => s.replace('Precedence: bulk\r\n', 'Precedence: bulk\r\nPrecedence: bulk\r\n'),
      /once/,
    ],
    ['dropped X-Mailer', (s) => s.replace('X-Mailer: listmonk\r\n', ''), /verbatim/],
    ['changed spacing', (s) => s.replace('Precedence: bulk', 'Precedence:  bulk'), /verbatim/],
    [
      'Content-Language left on top',
      (s) => s.replace('MIME-Version', 'Content-Language: de\r\nMIME-Version'),
      /unexpected top-level field/,
    ],
    [
      'no MIME-Version',
      (s) => s.replace('MIME-Version: 1.0\r\n', ''),
      /MIME-Version appears 0 times/,
    ],
    [
      'two MIME-Versions',
      (s) => s.replace('MIME-Version: 1.0\r\n', 'MIME-Version: 1.0\r\nMIME-Version: 1.0\r\n'),
      /MIME-Version appears 2 times/,
    ],
  ];
  for (const [what, change, message] of broken) {
    it(`rejects ${what}`, () => {
      const changed = bytes(change(latin1(signed)));
      assert.notEqual(latin1(changed), latin1(signed), 'mutation had no effect');
      assert.throws(() => assertOuterHeadersPreserved(original, changed), message);
    });
  }

  it('rejects the unsigned original itself (old Content-Type on top)', () => {
    assert.throws(
      () => assertOuterHeadersPreserved(original, original),
      /top-level Content-Type is "multipart\/alternative"/,
    );
  });

  it('compares LF originals after normalising to CRLF', () => {
    const lf = fixture('phplist-lf-mixed-calendar');
    assertOuterHeadersPreserved(lf, simulateDetached(lf));
  });
});

describe('assertTransitSafe', () => {
  const ok = simulateDetached(fixture('listmonk-alternative-qp-crlf'));

  it('accepts CRLF, 7-bit, short lines (998 octets is the limit)', () => {
    assertTransitSafe(ok);
    assertTransitSafe(bytes(`a\r\n${'x'.repeat(998)}\r\n`));
  });

  const broken: [what: string, raw: Buffer, message: RegExp][] = [
    [
      'an 8-bit byte',
      bytes('Subject: Caf\xe9\r\n\r\nx\r\n'),
      /8-bit byte 0xe9 at byte 12 \(line 1\)/,
    ],
    ['a 999-octet line', bytes(`a\r\n${'x'.repeat(999)}\r\n`), /line of 999 octets/],
    ['a bare LF', bytes('a\r\nb\nc\r\n'), /bare LF/],
    ['a bare CR', bytes('a\rb\r\n'), /bare CR/],
    ['an unterminated last line', bytes('a\r\nb'), /last line not terminated/],
    ['an unterminated 999-octet last line', bytes(`a\r\n${'x'.repeat(999)}`), /line of 999 octets/],
    ['an untouched 8bit fixture', simulateDetached(fixture('utf8-8bit-alternative')), /8-bit byte/],
    [
      'an untouched 10k-line fixture',
      simulateDetached(fixture('minified-html-7bit-mislabelled')),
      /line of 1\d{4} octets/,
    ],
  ];
  for (const [what, raw, message] of broken) {
    it(`rejects ${what}`, () => assert.throws(() => assertTransitSafe(raw), message));
  }

  it('can allow a missing final CRLF', () => {
    assertTransitSafe(bytes('a\r\nb'), { requireFinalCrlf: false });
  });
});
