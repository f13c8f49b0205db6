/**
 * Private keys at rest: envelope encryption. Each key is sealed with AES-256-GCM under its
 * own random data key; the data key is wrapped, also with AES-256-GCM, by the master key.
 * The tenant and certificate ids are additional authenticated data, so a sealed key copied
 * to another row does not open. A version tag and the master key's fingerprint lead the
 * record, so master keys can be rotated by re-wrapping data keys only.
 *
 * Record (version 1):
 *   0x01 | master fingerprint (8) | wrap iv (12) | wrapped data key (32) | wrap tag (16)
 *        | data iv (12) | ciphertext (n) | data tag (16)
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { RelayError } from '../plugin/relay-error';

const VERSION = 1;
const FINGERPRINT = 8;
const IV = 12;
const TAG = 16;
const KEY = 32;
const HEADER = 1 + FINGERPRINT + IV + KEY + TAG + IV;

export interface KeyOwner {
  tenantId: string;
  certificateId: string;
}

/** A short, non-secret identifier of a master key (first 8 bytes of its SHA-256). */
export const masterKeyFingerprint = (masterKey: Buffer): Buffer =>
  createHash('sha256')
    .update('smime-relay master key')
    .update(masterKey)
    .digest()
    .subarray(0, FINGERPRINT);

const aad = (purpose: 'data' | 'wrap', owner: KeyOwner): Buffer =>
  Buffer.from(
    `smime-relay/v${VERSION}/${purpose}/${owner.tenantId}/${owner.certificateId}`,
    'utf8',
  );

function seal(
  key: Buffer,
  plaintext: Buffer,
  associated: Buffer,
): { iv: Buffer; ct: Buffer; tag: Buffer } {
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(associated);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ct, tag: cipher.getAuthTag() };
}

function open(key: Buffer, iv: Buffer, ct: Buffer, tag: Buffer, associated: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(associated);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ct), decipher.final()]);
}

const unavailable = (why: string): RelayError => new RelayError('key_unavailable', why);

/**
 * The master keys a process knows: the current one seals, any of them opens. Rotation adds
 * the new key as current and keeps the old one until every record is re-wrapped.
 */
export class MasterKeyRing {
  private readonly byFingerprint = new Map<string, Buffer>();
  readonly current: Buffer;

  constructor(current: Buffer, previous: Buffer[] = []) {
    for (const k of [current, ...previous]) {
      if (k.length !== KEY) throw new Error('a master key must be 32 bytes');
      this.byFingerprint.set(masterKeyFingerprint(k).toString('hex'), k);
    }
    this.current = current;
  }

  find(fingerprint: Buffer): Buffer | undefined {
    return this.byFingerprint.get(fingerprint.toString('hex'));
  }
}

/** Wrap `dataKey` under the ring's current master key, in front of the sealed key `tail`. */
function wrapRecord(dataKey: Buffer, owner: KeyOwner, ring: MasterKeyRing, tail: Buffer[]): Buffer {
  const wrap = seal(ring.current, dataKey, aad('wrap', owner));
  dataKey.fill(0);
  return Buffer.concat([
    Buffer.from([VERSION]),
    masterKeyFingerprint(ring.current),
    wrap.iv,
    wrap.ct,
    wrap.tag,
    ...tail,
  ]);
}

export function sealPrivateKey(plaintext: Buffer, owner: KeyOwner, ring: MasterKeyRing): Buffer {
  const dataKey = randomBytes(KEY);
  const data = seal(dataKey, plaintext, aad('data', owner));
  return wrapRecord(dataKey, owner, ring, [data.iv, data.ct, data.tag]);
}

interface Parsed {
  fingerprint: Buffer;
  wrapIv: Buffer;
  wrapped: Buffer;
  wrapTag: Buffer;
  dataIv: Buffer;
  ct: Buffer;
  dataTag: Buffer;
}

function parse(record: Buffer): Parsed {
  if (record.length < HEADER + TAG || record[0] !== VERSION) {
    throw unavailable('the stored key record has an unknown format');
  }
  let at = 1;
  const take = (n: number): Buffer => record.subarray(at, (at += n));
  const fingerprint = take(FINGERPRINT);
  const wrapIv = take(IV);
  const wrapped = take(KEY);
  const wrapTag = take(TAG);
  const dataIv = take(IV);
  const ct = record.subarray(at, record.length - TAG);
  return {
    fingerprint,
    wrapIv,
    wrapped,
    wrapTag,
    dataIv,
    ct,
    dataTag: record.subarray(record.length - TAG),
  };
}

function unwrapDataKey(p: Parsed, owner: KeyOwner, ring: MasterKeyRing): Buffer {
  const master = ring.find(p.fingerprint);
  if (!master)
    throw unavailable('the stored key was sealed with a master key this process does not have');
  try {
    return open(master, p.wrapIv, p.wrapped, p.wrapTag, aad('wrap', owner));
  } catch {
    throw unavailable(
      'the stored key does not belong to this tenant and certificate, or was altered',
    );
  }
}

export function openPrivateKey(record: Buffer, owner: KeyOwner, ring: MasterKeyRing): Buffer {
  const p = parse(record);
  const dataKey = unwrapDataKey(p, owner, ring);
  try {
    return open(dataKey, p.dataIv, p.ct, p.dataTag, aad('data', owner));
  } catch {
    throw unavailable(
      'the stored key does not belong to this tenant and certificate, or was altered',
    );
  } finally {
    dataKey.fill(0);
  }
}

/** Re-wrap the data key under the ring's current master key; the ciphertext is unchanged. */
export function rewrapPrivateKey(record: Buffer, owner: KeyOwner, ring: MasterKeyRing): Buffer {
  const p = parse(record);
  if (p.fingerprint.equals(masterKeyFingerprint(ring.current))) return record;
  return wrapRecord(unwrapDataKey(p, owner, ring), owner, ring, [record.subarray(HEADER - IV)]);
}
