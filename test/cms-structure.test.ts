/**
 * The CMS SignedData the engine produces, parsed independently (asn1js, plus one cross-check
 * with `openssl cms -cmsout -print`): RFC 5652 structure, the RFC 8551 §2.5 signed attributes
 * in DER order, the certificates RFC 8550 §2.3 asks for, algorithm identifiers (RFC 3370,
 * RFC 4056, RFC 5754, RFC 5758). The SignatureCache is in signature-cache.test.ts.
 */
import assert from 'node:assert/strict';
import { X509Certificate, constants, createHash, verify as cryptoVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { createTestPki, type TestPki } from './helpers/pki';
import { runOk, withTempDir } from './helpers/pki-exec';
import { splitSignedMessage } from './helpers/verifiers';
import { newsletterByName } from './fixtures/newsletters';
import {
  ECDSA_OID,
  HASH_BYTES,
  HASH_OID,
  OIDS,
  RSA_PKCS1_OIDS,
  intOf,
  issuerAndSerial,
  oidOf,
  readMessageCms,
  utcTime,
  walk,
  type Asn1Node,
  type CmsView,
} from './support/cms';
import {
  DEFAULT_HASH,
  GOOD_KEYS,
  identityFromP12,
  one,
  topHeaders,
  type GoodKey,
} from './support/engine';
import { withDate } from './helpers/mail-date';
import {
  loadSigningIdentity,
  signMessage,
  type HashName,
  type SignatureFormat,
  type SigningIdentity,
} from '../src';

const EXPECTED_ATTRIBUTES: string[] = [
  OIDS.contentType,
  OIDS.signingTime,
  OIDS.messageDigest,
  OIDS.smimeCapabilities,
  OIDS.signingCertificateV2,
].sort();

let pki: TestPki;
const ids = {} as Record<GoodKey, SigningIdentity>;
/** A signing instant inside every certificate's validity, with milliseconds to be dropped. */
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000 + 86_400_000 + 789);
/** Dated at the moment of signing, so the signature carries signingTime (see signing-time.ts). */
const raw = withDate(newsletterByName('utf8-8bit-alternative').raw, NOW);

before(async () => {
  pki = await createTestPki();
  for (const key of GOOD_KEYS) ids[key] = identityFromP12(pki, key);
});

const derOf = (pem: string): Buffer => new X509Certificate(pem).raw;

function attr(cms: CmsView, oid: string): Asn1Node {
  const found = cms.signerInfos[0].signedAttrs.filter((a) => a.oid === oid);
  assert.equal(found.length, 1, `attribute ${oid} present once`);
  assert.equal(found[0].values.length, 1, `attribute ${oid} has one value`);
  return found[0].values[0];
}

/** The bytes that were signed: the detached first part, or the eContent. */
function signedContent(signed: Buffer, cms: CmsView): Buffer {
  const parts = splitSignedMessage(signed);
  if (parts.kind === 'detached') return parts.content;
  assert.ok(cms.eContent, 'opaque signature carries eContent');
  return cms.eContent;
}

interface Case {
  key: GoodKey;
  format: SignatureFormat;
  hash?: HashName;
  pss?: boolean;
}

async function checkStructure(c: Case): Promise<void> {
  const id = pki.identities[c.key];
  const hash = c.hash ?? DEFAULT_HASH[c.key];
  const signed = await signMessage(raw, ids[c.key], {
    format: c.format,
    hash: c.hash,
    rsaPss: c.pss,
    now: NOW,
  });
  const cms = readMessageCms(signed);
  if (c.format === 'detached') {
    const micalg = one(topHeaders(signed), 'content-type').params.get('micalg');
    assert.equal(micalg, `sha-${hash.slice(3)}`, 'micalg names the CMS digest (RFC 8551 §3.5.3.2)');
  }
  assert.deepEqual(
    walk(cms.root).filter((n) => n.indefinite),
    [],
    'DER: no indefinite lengths',
  );
  assert.equal(cms.contentType, OIDS.signedData);
  assert.equal(cms.version, 1);
  assert.deepEqual(
    cms.digestAlgorithms.map((a) => [oidOf(a.children[0]), a.children.length]),
    [[HASH_OID[hash], 1]],
    'one digestAlgorithm, parameters absent (RFC 5754 §2)',
  );
  assert.equal(cms.eContentType, OIDS.data);
  if (c.format === 'detached') assert.equal(cms.eContent, undefined, 'detached: no eContent');
  else assert.ok(cms.eContent && cms.eContent.length > 0, 'opaque: eContent present');

  // RFC 8550 §2.3: signer + intermediate, never the root.
  const signerDer = derOf(id.certPem);
  const certs = cms.certificates.map((b) => b.toString('hex')).sort();
  assert.deepEqual(
    certs,
    [signerDer, derOf(pki.intermediatePem)].map((b) => b.toString('hex')).sort(),
  );
  assert.ok(!cms.certificates.some((b) => b.equals(derOf(pki.rootPem))), 'root not included');
  assert.equal(cms.crls, undefined);

  assert.equal(cms.signerInfos.length, 1);
  const si = cms.signerInfos[0];
  assert.equal(si.version, 1, 'issuerAndSerialNumber sid → version 1');
  const expectedSid = issuerAndSerial(signerDer);
  assert.ok(si.sid.children[0].der.equals(expectedSid.issuer), 'sid issuer');
  assert.ok(si.sid.children[1].der.equals(expectedSid.serial), 'sid serial');
  assert.deepEqual(
    [oidOf(si.digestAlgorithm.children[0]), si.digestAlgorithm.children.length],
    [HASH_OID[hash], 1],
  );
  assert.equal(si.unsignedAttrs, undefined);

  // RFC 8551 §2.5: exactly these attributes, in DER SET OF order.
  assert.deepEqual(si.signedAttrs.map((a) => a.oid).sort(), EXPECTED_ATTRIBUTES);
  for (let i = 0; i + 1 < si.signedAttrs.length; i++) {
    const [a, b] = [si.signedAttrs[i].der, si.signedAttrs[i + 1].der];
    assert.ok(Buffer.compare(a, b) <= 0, `attribute ${i} sorts after attribute ${i + 1}`);
  }
  assert.equal(oidOf(attr(cms, OIDS.contentType)), OIDS.data);
  const content = signedContent(signed, cms);
  const md = attr(cms, OIDS.messageDigest);
  assert.equal(md.tag, 4);
  assert.equal(md.content.toString('hex'), createHash(hash).update(content).digest('hex'));
  const st = attr(cms, OIDS.signingTime);
  assert.equal(st.tag, 23, 'signingTime is a UTCTime before 2050');
  assert.equal(st.content.toString('latin1'), utcTime(NOW));

  const caps = attr(cms, OIDS.smimeCapabilities);
  assert.ok(caps.children.length > 0, 'at least one capability');
  for (const cap of caps.children) {
    assert.equal(cap.children.length, 1, `capability ${oidOf(cap.children[0])} has parameters`);
  }
  assert.deepEqual(
    walk(caps).filter((n) => n.cls === 'universal' && n.tag === 5),
    [],
    'no NULL',
  );

  const scv2 = attr(cms, OIDS.signingCertificateV2);
  const essCertId = scv2.children[0].children[0];
  let k = 0;
  if (essCertId.children[0].tag === 16) {
    assert.equal(oidOf(essCertId.children[0].children[0]), OIDS.sha256);
    k = 1;
  }
  assert.equal(
    essCertId.children[k].content.toString('hex'),
    createHash('sha256').update(signerDer).digest('hex'),
  );
  const issuerSerial = essCertId.children[k + 1];
  if (issuerSerial) {
    const directoryName = issuerSerial.children[0].children[0];
    assert.equal(directoryName.cls, 'context');
    assert.equal(directoryName.tag, 4);
    assert.ok(directoryName.children[0].der.equals(expectedSid.issuer), 'issuerSerial issuer');
    assert.ok(issuerSerial.children[1].der.equals(expectedSid.serial), 'issuerSerial serial');
  }

  // Signature algorithm and an independent check of the signature value.
  const sigAlg = si.signatureAlgorithm;
  const sigOid = oidOf(sigAlg.children[0]);
  const key = new X509Certificate(id.certPem).publicKey;
  const signedAttrs = Buffer.from(si.signedAttrsNode.der);
  signedAttrs[0] = 0x31; // [0] IMPLICIT → SET OF (RFC 5652 §5.4)
  let ok: boolean;
  if (c.key.startsWith('p')) {
    assert.equal(sigOid, ECDSA_OID[hash]);
    assert.equal(sigAlg.children.length, 1, 'ECDSA parameters absent (RFC 5758 §3.2)');
    ok = cryptoVerify(hash, signedAttrs, { key, dsaEncoding: 'der' }, si.signature.content);
  } else if (c.pss) {
    assert.equal(sigOid, OIDS.rsassaPss);
    const params = sigAlg.children[1].children;
    const field = (tag: number): Asn1Node | undefined =>
      params.find((p) => p.cls === 'context' && p.tag === tag)?.children[0];
    const hashAlg = field(0);
    const mgf = field(1);
    const salt = field(2);
    const trailer = field(3);
    assert.ok(hashAlg && mgf && salt, 'hash, MGF and salt length are explicit');
    assert.equal(oidOf(hashAlg.children[0]), HASH_OID[hash]);
    assert.equal(oidOf(mgf.children[0]), OIDS.mgf1);
    assert.equal(oidOf(mgf.children[1].children[0]), HASH_OID[hash], 'MGF1 uses the same hash');
    assert.equal(intOf(salt), HASH_BYTES[hash], 'salt length = hash length');
    if (trailer) assert.equal(intOf(trailer), 1);
    ok = cryptoVerify(
      hash,
      signedAttrs,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_BYTES[hash] },
      si.signature.content,
    );
  } else {
    assert.ok(RSA_PKCS1_OIDS.has(sigOid), `PKCS#1 v1.5 signature algorithm, got ${sigOid}`);
    ok = cryptoVerify(hash, signedAttrs, key, si.signature.content);
  }
  assert.equal(ok, true, 'signature value verifies over the DER signed attributes');
}

describe('CMS structure', () => {
  const cases: Case[] = [];
  for (const format of ['detached', 'opaque'] as const) {
    for (const key of GOOD_KEYS) cases.push({ key, format });
    cases.push(
      { key: 'rsa2048', format, pss: true },
      { key: 'rsa2048', format, pss: true, hash: 'sha384' },
      { key: 'rsa3072', format, pss: true, hash: 'sha512' },
      { key: 'rsa2048', format, hash: 'sha512' },
      { key: 'p256', format, hash: 'sha384' },
      { key: 'p384', format, hash: 'sha512' },
    );
  }
  for (const c of cases) {
    test(`${c.key}${c.pss ? ' pss' : ''} ${c.hash ?? 'default hash'} ${c.format}`, () =>
      checkStructure(c));
  }

  test('signingTime only when Date: agrees: 29 minutes yes, 31 minutes or no Date: no', async () => {
    const minutes = (m: number): Date => new Date(NOW.getTime() + m * 60_000);
    const signedAttrs = async (input: Buffer): Promise<string[]> =>
      readMessageCms(await signMessage(input, ids.rsa2048, { now: NOW }))
        .signerInfos[0].signedAttrs.map((a) => a.oid)
        .sort();
    const without = EXPECTED_ATTRIBUTES.filter((o) => o !== OIDS.signingTime);
    const fixture = newsletterByName('utf8-8bit-alternative').raw;
    assert.deepEqual(await signedAttrs(withDate(fixture, minutes(-29))), EXPECTED_ATTRIBUTES);
    assert.deepEqual(await signedAttrs(withDate(fixture, minutes(29))), EXPECTED_ATTRIBUTES);
    assert.deepEqual(await signedAttrs(withDate(fixture, minutes(-31))), without);
    assert.deepEqual(await signedAttrs(withDate(fixture, minutes(31))), without);
    assert.deepEqual(await signedAttrs(withDate(fixture, null)), without);
    assert.deepEqual(await signedAttrs(fixture), without, 'the fixture is dated 2024');
  });

  test('opaque eContent is byte for byte the detached signed entity', async () => {
    const detached = await signMessage(raw, ids.rsa2048, { now: NOW });
    const opaque = await signMessage(raw, ids.rsa2048, { now: NOW, format: 'opaque' });
    const parts = splitSignedMessage(detached);
    assert.equal(parts.kind, 'detached');
    const eContent = readMessageCms(opaque).eContent;
    assert.ok(eContent && parts.kind === 'detached' && eContent.equals(parts.content));
  });

  test('a PEM chain holding the root too still sends signer + intermediate only', async () => {
    const id = pki.identities.p256;
    const identity = loadSigningIdentity({
      certificate: id.certPem,
      privateKey: id.keyPem,
      chain: readFileSync(pki.bundlePath),
    });
    const cms = readMessageCms(await signMessage(raw, identity, { now: NOW }));
    assert.equal(cms.certificates.length, 2);
    assert.ok(!cms.certificates.some((b) => b.equals(derOf(pki.rootPem))), 'root not included');
  });

  test('openssl cms -cmsout -print agrees: eContent absent/present, five signed attributes', async () => {
    for (const format of ['detached', 'opaque'] as const) {
      const signed = await signMessage(raw, ids.p256, { now: NOW, format });
      const printed = await withTempDir('smime-cms-print-', async (dir) => {
        const der = join(dir, 'cms.der');
        await writeFile(der, readMessageCms(signed).der);
        const res = await runOk('openssl', [
          'cms',
          '-cmsout',
          '-print',
          '-inform',
          'DER',
          '-in',
          der,
        ]);
        return res.stdout;
      });
      assert.match(printed, /contentType: pkcs7-signedData/);
      if (format === 'detached') assert.match(printed, /eContent: <ABSENT>/);
      else assert.doesNotMatch(printed, /eContent: <ABSENT>/);
      const objects = [...printed.matchAll(/^\s+object: (.+) \(([\d.]+)\)$/gm)]
        .map((m) => m[2])
        .filter((o) => EXPECTED_ATTRIBUTES.includes(o));
      assert.deepEqual([...objects].sort(), EXPECTED_ATTRIBUTES, format);
      assert.match(printed, /UTCTIME:.*GMT/);
    }
  });
});
