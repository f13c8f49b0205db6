// Proves the content checkers can fail, and that the newsletter corpus is what it claims to be.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, before, after } from 'node:test';
import { promisify } from 'node:util';
import { encodeIso2022jp } from '../fixtures/iso2022jp';
import { ISO2022JP_TEXT, LAYOUT } from '../fixtures/newsletter-corpus';
import {
  MULTILINGUAL_TEXT,
  articles,
  minifiedHtml,
  newsletterHtml,
  newsletterText,
} from '../fixtures/newsletter-content';
import { base64Lines, fakePdf, seededBytes, withCrlf } from '../fixtures/newsletter-parts';
import {
  fromProblemInputs,
  malformedInputs,
  newsletter20k,
  newsletterByName,
  newsletterCorpus,
  newsletterOfSize,
} from '../fixtures/newsletters';
import {
  assertContentPreserved,
  assertOuterHeadersPreserved,
  assertTransitSafe,
  decodedContent,
  extractOpaqueContent,
  headerFields,
  mimeOutline,
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

const lines = (raw: Buffer): string[] => latin1(raw).split(/\r?\n/);
const hasHigh = (raw: Buffer): boolean => raw.some((b) => b >= 0x80);

describe('newsletter corpus', () => {
  const corpus = newsletterCorpus();

  it('has unique names, the certificate From and is deterministic', () => {
    assert.equal(new Set(corpus.map((n) => n.name)).size, corpus.length);
    const again = newsletterCorpus();
    corpus.forEach((n, i) => {
      assert.equal(n.from, 'news@example.com');
      const from = headerFields(n.raw).filter((f) => /^from$/i.test(f.name));
      assert.deepEqual(
        from.map((f) => f.raw),
        ['From: "Example News" <news@example.com>'],
        n.name,
      );
      assert.ok(n.raw.equals(again[i].raw), `${n.name} is not deterministic`);
    });
  });

  it('every fixture parses and carries the usual marketing headers', async () => {
    for (const n of corpus) {
      const decoded = await decodedContent(n.raw);
      assert.ok(decoded.text !== undefined || decoded.html !== undefined, n.name);
      const names = new Set(headerFields(n.raw).map((f) => f.name.toLowerCase()));
      for (const h of [
        'date',
        'message-id',
        'to',
        'reply-to',
        'list-unsubscribe',
        'list-unsubscribe-post',
        'precedence',
        'feedback-id',
      ]) {
        assert.ok(names.has(h), `${n.name} lacks ${h}`);
      }
      const unsub = headerFields(n.raw).find((f) => f.name === 'List-Unsubscribe')?.raw ?? '';
      assert.match(unsub, /<mailto:[^>]+>,\r\n <https:[^>]+>/, n.name);
    }
  });

  it('line endings: CRLF fixtures have no bare LF, the LF fixture has no CR at all', () => {
    for (const n of corpus) {
      const s = latin1(n.raw);
      if (n.name === 'phplist-lf-mixed-calendar') assert.ok(!s.includes('\r'));
      else assert.ok(!/[^\r]\n/.test(s), `${n.name} has a bare LF`);
    }
  });

  it('folded and encoded headers', async () => {
    const subject = headerFields(fixture('listmonk-alternative-qp-crlf')).find(
      (f) => f.name === 'Subject',
    );
    assert.ok((subject?.raw.split('\r\n').length ?? 0) >= 3, 'long Subject folded over 3+ lines');
    const utf8 = fixture('utf8-8bit-alternative');
    assert.match(
      headerFields(utf8).find((f) => f.name === 'Subject')?.raw ?? '',
      /=\?UTF-8\?B\?.*\r\n =\?UTF-8\?B\?/,
    );
    assert.match((await decodedContent(utf8)).subject ?? '', /ニュースレター.*🎉.*Grüße/);
    const mautic = headerFields(fixture('mautic-mixed-related-alternative')).map((f) => f.raw);
    assert.ok(
      mautic.includes('X-Mautic-Lead-Id:90210') &&
        mautic.includes('X-Campaign-Tag:\tautumn\t2024 '),
    );
  });

  it('8-bit UTF-8 bodies and raw UTF-8 without MIME headers', async () => {
    const utf8 = fixture('utf8-8bit-alternative');
    assert.equal(mimeOutline(utf8).filter((p) => p.transferEncoding === '8bit').length, 2);
    const d = await decodedContent(utf8);
    assert.equal(d.text, MULTILINGUAL_TEXT);
    for (const s of ['ニュースレター', 'Straßenbahn', '🎉']) assert.ok(d.html?.includes(s), s);
    const noMime = fixture('no-mime-utf8');
    assert.ok(hasHigh(noMime) && !/^(mime-version|content-)/im.test(latin1(noMime)));
    assert.equal((await decodedContent(noMime)).text, MULTILINGUAL_TEXT);
    const ascii = fixture('no-mime-ascii');
    assert.ok(!hasHigh(ascii) && !/^(mime-version|content-)/im.test(latin1(ascii)));
  });

  it('minified HTML: one 10k+ line as 8bit and as mislabelled 7bit', async () => {
    const eight = fixture('minified-html-8bit');
    assert.ok(lines(eight).some((l) => l.length > 10000 && /[\x80-\xff]/.test(l)));
    assert.equal((await decodedContent(eight)).html, minifiedHtml(12000, 303, true));
    const seven = fixture('minified-html-7bit-mislabelled');
    assert.equal(mimeOutline(seven)[0].transferEncoding, '7bit');
    assert.ok(!hasHigh(seven) && lines(seven).some((l) => l.length > 10000));
  });

  it('quoted-printable and base64 bodies decode to the generated copy', async () => {
    const list = articles(6, 101);
    const qp = await decodedContent(fixture('listmonk-alternative-qp-crlf'));
    assert.equal(qp.text, newsletterText(list, LAYOUT));
    assert.equal(qp.html, newsletterHtml(list, LAYOUT));
    assert.ok(lines(fixture('listmonk-alternative-qp-crlf')).every((l) => l.length <= 998));
    const b64 = await decodedContent(fixture('base64-text-and-html'));
    assert.equal(b64.html, newsletterHtml(articles(4, 505), LAYOUT));
    const long = fixture('base64-unwrapped-line');
    assert.ok(lines(long).some((l) => l.length > 998 && /^[A-Za-z0-9+/=]+$/.test(l)));
    assert.equal((await decodedContent(long)).html, newsletterHtml(articles(8, 606), LAYOUT));
  });

  it('attachments, inline cid images and the nested Mautic structure', async () => {
    const pdf = (await decodedContent(fixture('mixed-pdf-attachment'))).attachments;
    assert.equal(pdf.length, 1);
    assert.equal(pdf[0].size, 48 * 1024);
    assert.equal(pdf[0].contentType, 'application/pdf');
    const related = await decodedContent(fixture('related-inline-images'));
    assert.deepEqual(
      related.attachments.map((a) => [a.filename, a.contentDisposition, a.related, a.cid]),
      [
        ['logo.png', 'inline', true, 'logo.7f3a@news.example.com'],
        ['banner.jpg', 'inline', true, 'banner.7f3a@news.example.com'],
      ],
    );
    for (const a of related.attachments) assert.ok(related.html?.includes(`src="cid:${a.cid}"`));
    const raw = fixture('mautic-mixed-related-alternative');
    const types = mimeOutline(raw).map((p) => `${p.path || 'root'}:${p.contentType}`);
    assert.deepEqual(types.slice(0, 5), [
      'root:multipart/mixed',
      '1:multipart/related',
      '1.1:multipart/alternative',
      '1.1.1:text/plain',
      '1.1.2:text/html',
    ]);
    assert.match(
      latin1(raw),
      /\r\n\r\nThis is a multi-part message in MIME format\.\r\n--_mix_77c2f0\r\n/,
    );
    assert.match(latin1(raw), /--_mix_77c2f0--\r\nThis is the epilogue/);
    assert.equal((await decodedContent(raw)).attachments.length, 2);
  });

  it('ISO-2022-JP: genuine JIS escapes, 7-bit, decodes back to the Japanese text', async () => {
    const raw = fixture('iso-2022-jp');
    assert.ok(latin1(raw).includes('\x1b$B') && latin1(raw).includes('\x1b(B') && !hasHigh(raw));
    assert.equal((await decodedContent(raw)).text, ISO2022JP_TEXT);
    assert.equal(
      new TextDecoder('iso-2022-jp').decode(encodeIso2022jp(ISO2022JP_TEXT)),
      ISO2022JP_TEXT,
    );
    assert.equal((await decodedContent(raw)).subject, '秋の新機能のお知らせ（ニュースレター）');
  });

  it('the large fixture is over 2 MB, with a 2.3 MB attachment', async () => {
    const raw = fixture('large-3mb-attachment');
    assert.ok(raw.length > 3 * 1000 * 1000);
    const [a] = (await decodedContent(raw)).attachments;
    assert.equal(a.size, 2300 * 1024);
    assert.ok(
      fakePdf(2300 * 1024, 1010)
        .subarray(0, 8)
        .toString() === '%PDF-1.7',
    );
  });

  it('edge lines: trailing whitespace, "From " and "." lines in 7bit parts', async () => {
    const raw = fixture('edge-lines-7bit');
    const l = lines(raw);
    assert.ok(l.some((x) => / +$/.test(x)) && l.some((x) => /\t$/.test(x)));
    assert.ok(l.filter((x) => x.startsWith('From ')).length >= 3);
    assert.ok(l.includes('.') && l.some((x) => x.startsWith('..')));
    assert.match((await decodedContent(raw)).text ?? '', /\nFrom the editor: this week/);
  });

  it('sized newsletters are roughly the requested size', async () => {
    for (const size of [2048, 20 * 1024, 200 * 1024, 2 * 1024 * 1024]) {
      const raw = newsletterOfSize(size);
      const tolerance = size < 4096 ? 0.3 : 0.05;
      assert.ok(Math.abs(raw.length - size) <= size * tolerance, `${size}: got ${raw.length}`);
    }
    const bench = newsletter20k();
    assert.ok(bench.length > 18000 && bench.length < 22000);
    assert.equal(
      mimeOutline(bench).filter((p) => p.transferEncoding === 'quoted-printable').length,
      2,
    );
    assert.ok((await decodedContent(bench)).html?.includes('</html>'));
  });

  it('negative inputs are what they say', () => {
    const byName = new Map(malformedInputs.map((m) => [m.name, m.raw]));
    assert.equal(byName.get('empty')?.length, 0);
    assert.ok(byName.get('binary-garbage')?.equals(seededBytes(4096, 0xbad5eed)));
    assert.ok(
      !latin1(byName.get('no-header-body-separator') ?? Buffer.alloc(0)).includes('\r\n\r\n'),
    );
    assert.ok(byName.get('no-mime-latin1-body')?.includes(0xe9));
    const expect = Object.fromEntries(fromProblemInputs.map((f) => [f.name, f.expect]));
    assert.equal(expect['from-case-differs'], 'ok');
    const fromOf = (name: string): string[] =>
      headerFields(fromProblemInputs.find((f) => f.name === name)?.raw ?? Buffer.alloc(0))
        .filter((f) => f.name === 'From')
        .map((f) => f.raw);
    assert.deepEqual(fromOf('no-from-header'), []);
    assert.deepEqual(fromOf('from-two-addresses'), ['From: a@example.com, b@example.com']);
    assert.deepEqual(fromOf('from-case-differs'), ['From: "Example News" <News@Example.COM>']);
    assert.equal(fromOf('from-two-header-fields').length, 2);
  });
});

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
