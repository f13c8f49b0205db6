/**
 * RC2-CBC decryption (RFC 2268). Only legacy PKCS#12 files need it
 * (pbeWithSHAAnd40BitRC2-CBC, the default of older OpenSSL and Windows exports), and
 * OpenSSL 3 keeps RC2 in its legacy provider, which Node does not load.
 */

// The key-expansion permutation of RFC 2268 §2, derived from the digits of pi.
const PITABLE = Buffer.from(
  'd978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2' +
    '179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82' +
    '54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626' +
    '6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7' +
    '08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec' +
    'c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731' +
    '2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9' +
    '0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad',
  'hex',
);

/** Key expansion of RFC 2268 §2: 64 16-bit words for `effectiveBits` (T1). */
export function expandRc2Key(key: Buffer, effectiveBits: number): Uint16Array {
  const l = new Uint8Array(128);
  const t = Math.min(key.length, 128);
  l.set(key.subarray(0, t));
  for (let i = t; i < 128; i++) l[i] = PITABLE[(l[i - 1] + l[i - t]) & 0xff];
  const t8 = Math.ceil(effectiveBits / 8);
  const tm = 0xff >> (8 * t8 - effectiveBits);
  l[128 - t8] = PITABLE[l[128 - t8] & tm];
  for (let i = 127 - t8; i >= 0; i--) l[i] = PITABLE[l[i + 1] ^ l[i + t8]];
  const k = new Uint16Array(64);
  for (let i = 0; i < 64; i++) k[i] = l[2 * i] | (l[2 * i + 1] << 8);
  return k;
}

const SHIFTS = [1, 2, 3, 5];
const rotr16 = (x: number, s: number): number => ((x >>> s) | (x << (16 - s))) & 0xffff;

function decryptBlock(k: Uint16Array, block: Buffer, out: Buffer, at: number): void {
  const r = [
    block.readUInt16LE(0),
    block.readUInt16LE(2),
    block.readUInt16LE(4),
    block.readUInt16LE(6),
  ];
  let j = 63;
  const rmix = (): void => {
    for (let i = 3; i >= 0; i--) {
      r[i] = rotr16(r[i], SHIFTS[i]);
      const a = r[(i + 3) & 3];
      const mix = ((a & r[(i + 2) & 3]) + (~a & r[(i + 1) & 3])) & 0xffff;
      r[i] = (r[i] - k[j--] - mix) & 0xffff;
    }
  };
  const rmash = (): void => {
    for (let i = 3; i >= 0; i--) r[i] = (r[i] - k[r[(i + 3) & 3] & 63]) & 0xffff;
  };
  for (let n = 0; n < 5; n++) rmix();
  rmash();
  for (let n = 0; n < 6; n++) rmix();
  rmash();
  for (let n = 0; n < 5; n++) rmix();
  for (let i = 0; i < 4; i++) out.writeUInt16LE(r[i], at + 2 * i);
}

/** Decrypt RC2-CBC and strip PKCS#7 padding; throws on bad padding (usually a wrong key). */
export function rc2CbcDecrypt(
  key: Buffer,
  effectiveBits: number,
  iv: Buffer,
  data: Buffer,
): Buffer {
  if (data.length === 0 || data.length % 8 !== 0)
    throw new Error('RC2 ciphertext is not whole blocks');
  const k = expandRc2Key(key, effectiveBits);
  const out = Buffer.alloc(data.length);
  let prev = iv;
  for (let at = 0; at < data.length; at += 8) {
    const block = data.subarray(at, at + 8);
    decryptBlock(k, block, out, at);
    for (let i = 0; i < 8; i++) out[at + i] ^= prev[i];
    prev = block;
  }
  const pad = out[out.length - 1];
  if (pad < 1 || pad > 8 || out.subarray(out.length - pad).some((b) => b !== pad)) {
    throw new Error('bad RC2 padding');
  }
  return out.subarray(0, out.length - pad);
}

/** Decrypt a single block without CBC or padding (for the RFC 2268 test vectors). */
export function rc2DecryptBlock(key: Buffer, effectiveBits: number, block: Buffer): Buffer {
  const out = Buffer.alloc(8);
  decryptBlock(expandRc2Key(key, effectiveBits), block, out, 0);
  return out;
}
