/**
 * SignatureCache: recipients whose signed entity is byte-identical (only header fields outside
 * the signature differ, such as To:) share one CMS signature; anything that changes the
 * signature (content, hash, format, identity) must miss.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createTestPki, type TestPki } from './helpers/pki';
import { VERIFIERS, verifyWithAll } from './helpers/verifiers';
import { newsletterByName } from './fixtures/newsletters';
import { readMessageCms } from './support/cms';
import { identityFromP12, replaceOnce } from './support/engine';
import { SignatureCache, signMessage, type SigningIdentity } from '../src';

let pki: TestPki;
const ids = {} as Record<'rsa2048' | 'p256', SigningIdentity>;
const NOW = new Date(Date.now() + 60_000);
const raw = newsletterByName('utf8-8bit-alternative').raw;

before(async () => {
  pki = await createTestPki();
  ids.rsa2048 = identityFromP12(pki, 'rsa2048');
  ids.p256 = identityFromP12(pki, 'p256');
});

describe('SignatureCache', () => {
  const toA = raw;
  const toB = replaceOnce(
    raw,
    'To: "Jane Doe" <jane.doe@example.net>',
    'To: "John Roe" <john.roe@example.org>',
  );

  for (const key of ['rsa2048', 'p256'] as const) {
    for (const format of ['detached', 'opaque'] as const) {
      test(`${key} ${format}: same content, other To: → same CMS bytes from the cache`, async () => {
        const cache = new SignatureCache();
        const a = await signMessage(toA, ids[key], { format, now: NOW, cache });
        const hitsBefore = cache.hits;
        const b = await signMessage(toB, ids[key], { format, now: NOW, cache });
        assert.ok(cache.hits > hitsBefore, 'the second message is a cache hit');
        assert.ok(readMessageCms(a).der.equals(readMessageCms(b).der), 'identical CMS');
        assert.notEqual(a.toString('latin1'), b.toString('latin1'), 'messages still differ (To:)');
        assert.match(b.toString('latin1'), /^To: "John Roe" <john\.roe@example\.org>\r$/m);
        for (const msg of [a, b]) {
          const results = await verifyWithAll(msg, pki);
          for (const v of VERIFIERS) assert.ok(results[v].ok, `${v}:\n${results[v].output}`);
        }
      });
    }
  }

  test('without a cache ECDSA signatures differ; other content, hash or format is a miss', async () => {
    const a = await signMessage(toA, ids.p256, { now: NOW });
    const b = await signMessage(toB, ids.p256, { now: NOW });
    assert.ok(!readMessageCms(a).der.equals(readMessageCms(b).der), 'ECDSA is randomised');

    const cache = new SignatureCache();
    await signMessage(toA, ids.p256, { now: NOW, cache });
    const other = Buffer.concat([raw, Buffer.from('One more line.\r\n')]);
    await signMessage(other, ids.p256, { now: NOW, cache });
    await signMessage(toA, ids.p256, { now: NOW, cache, hash: 'sha512' });
    await signMessage(toA, ids.p256, { now: NOW, cache, format: 'opaque' });
    await signMessage(toA, ids.rsa2048, { now: NOW, cache });
    assert.equal(cache.hits, 0, 'no hits for different content/hash/format/identity');
    assert.equal(cache.size, 5);
  });
});
