import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { RelayError } from '../plugin/relay-error';
import { MasterKeyRing, openPrivateKey, rewrapPrivateKey, sealPrivateKey } from './key-vault';

const PEM = Buffer.from(
  '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n',
);
const owner = { tenantId: 'tenant-a', certificateId: 'cert-1' };
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return e instanceof RelayError ? e.code : 'other';
  }
  return 'none';
};

describe('key vault', () => {
  const ring = new MasterKeyRing(randomBytes(32));

  it('seals and opens, and the record holds no plaintext', () => {
    const record = sealPrivateKey(PEM, owner, ring);
    assert.equal(record[0], 1, 'version tag');
    assert.ok(!record.includes(Buffer.from('PRIVATE KEY')), 'no PEM armour in the record');
    assert.ok(!record.includes(PEM.subarray(28, 60)), 'no key bytes in the record');
    assert.deepEqual(openPrivateKey(record, owner, ring), PEM);
  });

  it('seals the same key differently each time (fresh data key and IVs)', () => {
    assert.notDeepEqual(sealPrivateKey(PEM, owner, ring), sealPrivateKey(PEM, owner, ring));
  });

  it('does not open under another tenant or certificate id (rows cannot be swapped)', () => {
    const record = sealPrivateKey(PEM, owner, ring);
    assert.equal(
      code(() => openPrivateKey(record, { ...owner, tenantId: 'tenant-b' }, ring)),
      'key_unavailable',
    );
    assert.equal(
      code(() => openPrivateKey(record, { ...owner, certificateId: 'cert-2' }, ring)),
      'key_unavailable',
    );
  });

  it('does not open with a wrong master key, or when a byte is altered', () => {
    const record = sealPrivateKey(PEM, owner, ring);
    assert.equal(
      code(() => openPrivateKey(record, owner, new MasterKeyRing(randomBytes(32)))),
      'key_unavailable',
    );
    for (const at of [1, 20, 60, 90, record.length - 1]) {
      const altered = Buffer.from(record);
      altered[at] ^= 1;
      assert.equal(
        code(() => openPrivateKey(altered, owner, ring)),
        'key_unavailable',
        `byte ${at}`,
      );
    }
    assert.equal(
      code(() => openPrivateKey(Buffer.from([2, 0, 0]), owner, ring)),
      'key_unavailable',
    );
  });

  it('rotates: re-wrapping keeps the ciphertext and opens under the new key alone', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const record = sealPrivateKey(PEM, owner, new MasterKeyRing(oldKey));
    const during = new MasterKeyRing(newKey, [oldKey]);
    assert.deepEqual(
      openPrivateKey(record, owner, during),
      PEM,
      'old records open during rotation',
    );
    const rewrapped = rewrapPrivateKey(record, owner, during);
    assert.deepEqual(
      rewrapped.subarray(69),
      record.subarray(69),
      'the sealed key itself is unchanged',
    );
    assert.deepEqual(openPrivateKey(rewrapped, owner, new MasterKeyRing(newKey)), PEM);
    assert.equal(
      code(() => openPrivateKey(rewrapped, owner, new MasterKeyRing(oldKey))),
      'key_unavailable',
    );
    assert.equal(
      rewrapPrivateKey(rewrapped, owner, during),
      rewrapped,
      'already current: unchanged',
    );
  });
});
