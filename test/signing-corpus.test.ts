/**
 * Corpus newsletters signed with the four good key types (RSA-2048, RSA-3072, P-256, P-384),
 * detached and opaque, each output checked by three independent verifiers (OpenSSL, gpgsm,
 * NSS), the content and header checkers of test/helpers/content.ts, the MIME framing of
 * RFC 8551, and the engine's own verifyMessage with the test root as anchor. Digest and
 * RSA-PSS variants on a few newsletters.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, test, type TestContext } from 'node:test';
import {
  assertContentPreserved,
  assertOuterHeadersPreserved,
  assertTransitSafe,
} from './helpers/content';
import { createTestPki, type TestPki } from './helpers/pki';
import {
  VERIFIERS,
  skipUnlessSupported,
  verifyWithAll,
  type AlgorithmSpec,
} from './helpers/verifiers';
import { newsletterByName, newsletterCorpus } from './fixtures/newsletters';
import { readMessageCms, DIGEST_NAMES, oidOf } from './support/cms';
import {
  DEFAULT_HASH,
  GOOD_KEYS,
  identityFromP12,
  one,
  signaturePartHeaders,
  topHeaders,
  type GoodKey,
} from './support/engine';
import {
  defaultHash,
  signMessage,
  verifyMessage,
  type HashName,
  type SignatureFormat,
  type SigningIdentity,
} from '../src';

const MICALG: Record<HashName, string> = {
  sha256: 'sha-256',
  sha384: 'sha-384',
  sha512: 'sha-512',
};
const FORMATS: SignatureFormat[] = ['detached', 'opaque'];

let pki: TestPki;
const ids = {} as Record<GoodKey, SigningIdentity>;
before(async () => {
  pki = await createTestPki();
  for (const key of GOOD_KEYS) ids[key] = identityFromP12(pki, key);
});

interface Case {
  key: GoodKey;
  format: SignatureFormat;
  hash?: HashName;
  pss?: boolean;
}

/** Asserts the MIME framing RFC 8551 §3.5.3 / §3.4 asks for. */
function assertFraming(signed: Buffer, format: SignatureFormat, hash: HashName): void {
  const top = topHeaders(signed);
  const ct = one(top, 'content-type');
  if (format === 'detached') {
    assert.equal(ct.mime, 'multipart/signed');
    assert.match(ct.raw, /;\s*protocol="application\/pkcs7-signature"/, 'protocol is quoted');
    assert.equal(ct.params.get('micalg'), MICALG[hash], 'micalg names the digest');
    assert.equal(top.get('content-transfer-encoding'), undefined);
    const sig = signaturePartHeaders(signed);
    const sigType = one(sig, 'content-type');
    assert.equal(sigType.mime, 'application/pkcs7-signature');
    assert.equal(sigType.params.get('name'), 'smime.p7s');
    assert.equal(one(sig, 'content-transfer-encoding').value.toLowerCase(), 'base64');
  } else {
    assert.equal(ct.mime, 'application/pkcs7-mime');
    assert.equal(ct.params.get('smime-type'), 'signed-data');
    assert.equal(ct.params.get('name'), 'smime.p7m');
    assert.equal(one(top, 'content-transfer-encoding').value.toLowerCase(), 'base64');
  }
}

async function signAndCheck(t: TestContext, raw: Buffer, c: Case): Promise<Buffer> {
  const id = ids[c.key];
  const hash = c.hash ?? DEFAULT_HASH[c.key];
  const signed = await signMessage(raw, id, { format: c.format, hash: c.hash, rsaPss: c.pss });

  const rsa = c.key.startsWith('rsa');
  const alg: AlgorithmSpec = { keyType: c.key, digest: hash, pss: rsa && c.pss === true };
  const results = await verifyWithAll(signed, pki);
  for (const v of VERIFIERS) {
    await t.test(v, { skip: skipUnlessSupported(v, alg) }, () => {
      assert.ok(results[v].ok, `${v} rejected the signature:\n${results[v].output}`);
    });
  }

  assertTransitSafe(signed);
  assertOuterHeadersPreserved(raw, signed);
  await assertContentPreserved(raw, signed, { format: c.format });
  assertFraming(signed, c.format, hash);

  const cms = readMessageCms(signed);
  const [signer] = cms.signerInfos;
  assert.equal(DIGEST_NAMES[oidOf(signer.digestAlgorithm.children[0])], hash, 'CMS digest');
  assert.equal(cms.eContent === undefined, c.format === 'detached', 'eContent presence');

  const report = await verifyMessage(signed, { trustAnchors: [pki.rootPem] });
  assert.deepEqual(report.errors, []);
  assert.equal(report.valid, true);
  assert.equal(report.signatureValid, true);
  assert.equal(report.format, c.format);
  assert.equal(report.digestAlgorithm, hash);
  const scheme = !rsa ? 'ecdsa' : c.pss ? 'rsa-pss' : 'rsa-pkcs1';
  assert.equal(report.signatureAlgorithm, `${scheme}-${hash}`);
  assert.equal(report.chainTrusted, true);
  assert.equal(report.fromMatches, true);
  assert.equal(report.from, 'news@example.com');
  const fp = new X509Certificate(pki.identities[c.key].certPem).fingerprint256;
  assert.equal(report.signer?.fingerprintSha256, fp.replace(/:/g, '').toLowerCase());
  return signed;
}

/**
 * RSA-2048 signs every newsletter in both formats and P-256 every newsletter detached. The
 * other combinations (P-256 opaque, RSA-3072 and P-384 in both formats) run the same code
 * paths with other keys, on a subset that still covers every kind of rewriting the engine does:
 * the fast path for safe 7-bit input, 8-bit bodies, over-long lines, LF input, no MIME headers,
 * trailing blanks and "From " lines, nesting with preamble and epilogue.
 */
const SUBSET = new Set([
  'listmonk-alternative-qp-crlf',
  'phplist-lf-mixed-calendar',
  'utf8-8bit-alternative',
  'base64-unwrapped-line',
  'no-mime-utf8',
  'edge-lines-7bit',
  'mautic-mixed-related-alternative',
]);
const EVERY_NEWSLETTER: [GoodKey, SignatureFormat][] = [
  ['rsa2048', 'detached'],
  ['rsa2048', 'opaque'],
  ['p256', 'detached'],
];

describe('corpus newsletters × key types × detached/opaque', () => {
  for (const n of newsletterCorpus()) {
    describe(n.name, () => {
      for (const key of GOOD_KEYS) {
        for (const format of FORMATS) {
          const every = EVERY_NEWSLETTER.some(([k, f]) => k === key && f === format);
          if (!every && !SUBSET.has(n.name)) continue;
          test(`${key} ${format}`, async (t) => {
            await signAndCheck(t, n.raw, { key, format });
          });
        }
      }
    });
  }

  test('the subset names exist in the corpus', () => {
    const names = new Set(newsletterCorpus().map((n) => n.name));
    for (const name of SUBSET) assert.ok(names.has(name), name);
  });
});

describe('default hash', () => {
  test('defaultHash is sha384 for P-384 and sha256 for the others', () => {
    for (const key of GOOD_KEYS) assert.equal(defaultHash(ids[key]), DEFAULT_HASH[key], key);
  });
});

/** A typical QP newsletter, and one the engine has to re-encode (8-bit UTF-8 bodies). */
const FEW = ['listmonk-alternative-qp-crlf', 'utf8-8bit-alternative'];

describe('digest variants', () => {
  const cases: Case[] = [];
  for (const format of FORMATS) {
    cases.push(
      { key: 'rsa2048', format, hash: 'sha384' },
      { key: 'rsa2048', format, hash: 'sha512' },
      { key: 'rsa3072', format, hash: 'sha512' },
      { key: 'p256', format, hash: 'sha384' },
      { key: 'p256', format, hash: 'sha512' },
      { key: 'p384', format, hash: 'sha512' },
      // gpgsm refuses a 256-bit digest with a 384-bit key; the other two must still accept it.
      { key: 'p384', format, hash: 'sha256' },
    );
  }
  for (const name of FEW) {
    for (const c of cases) {
      test(`${name} ${c.key} ${c.hash} ${c.format}`, async (t) => {
        await signAndCheck(t, newsletterByName(name).raw, c);
      });
    }
  }
});

describe('RSA-PSS variants', () => {
  const cases: Case[] = [];
  for (const format of FORMATS) {
    for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
      cases.push({ key: 'rsa2048', format, hash, pss: true });
    }
    cases.push({ key: 'rsa3072', format, pss: true });
  }
  for (const name of FEW) {
    for (const c of cases) {
      test(`${name} ${c.key} pss ${c.hash ?? 'default'} ${c.format}`, async (t) => {
        await signAndCheck(t, newsletterByName(name).raw, c);
      });
    }
  }

  test('rsaPss is ignored for EC keys (ECDSA signature)', async (t) => {
    const raw = newsletterByName(FEW[0]).raw;
    const signed = await signAndCheck(t, raw, { key: 'p256', format: 'detached', pss: true });
    const sigAlg = readMessageCms(signed).signerInfos[0].signatureAlgorithm;
    assert.equal(oidOf(sigAlg.children[0]), '1.2.840.10045.4.3.2');
  });
});
