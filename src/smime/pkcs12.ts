/**
 * PKCS#12 (RFC 7292) reader: modern files (PBES2 with PBKDF2 and AES, SHA-256 MAC) and
 * legacy ones (pbeWithSHAAnd3-KeyTripleDES-CBC, pbeWithSHAAnd40BitRC2-CBC, SHA-1 MAC) as
 * older Windows and CA exports produce.
 */
import * as crypto from 'node:crypto';
import { RelayError } from '../plugin/relay-error';
import { BerError, child, contextChild, intOf, oidOf, parseBer, type BerNode } from './ber';
import { rc2CbcDecrypt } from './rc2';

export interface Pkcs12Contents {
  /** PKCS#8 PrivateKeyInfo DER of every key found. */
  keys: Buffer[];
  /** DER of every certificate found. */
  certificates: Buffer[];
}

const P12 = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbmac1: '1.2.840.113549.1.5.14',
};

const DIGEST_BY_OID: Record<string, { name: string; block: number; size: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', block: 64, size: 20 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', block: 64, size: 32 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', block: 128, size: 48 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', block: 128, size: 64 },
};

const PRF_BY_OID: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

const CIPHER_BY_OID: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};

/** PKCS#12 PBE schemes (RFC 7292 Appendix C). */
const PKCS12_PBE: Record<string, { cipher: string; keyLength: number; rc2Bits?: number }> = {
  '1.2.840.113549.1.12.1.3': { cipher: 'des-ede3-cbc', keyLength: 24 },
  '1.2.840.113549.1.12.1.4': { cipher: 'des-ede-cbc', keyLength: 16 },
  '1.2.840.113549.1.12.1.5': { cipher: 'rc2', keyLength: 16, rc2Bits: 128 },
  '1.2.840.113549.1.12.1.6': { cipher: 'rc2', keyLength: 5, rc2Bits: 40 },
};

/**
 * Iteration counts above this are refused: they come from the file, and a crafted file
 * could otherwise keep the process busy for hours. Real exports use 2,000 to 600,000.
 */
const MAX_ITERATIONS = 1_000_000;

function iterationsOf(n: BerNode | undefined): number {
  const count = n ? intOf(n) : 1;
  if (count < 1 || count > MAX_ITERATIONS) {
    throw new RelayError('bad_certificate', `the PKCS#12 file asks for ${count} iterations`);
  }
  return count;
}

/** The password in both forms PKCS#12 uses: BMPString for its own KDF, UTF-8 for PBES2. */
interface Secret {
  bmp: Buffer;
  utf8: Buffer;
}

/** The password as a NUL-terminated BMPString, as the PKCS#12 KDF wants it. */
function bmpPassword(password: string | undefined): Buffer {
  if (password === undefined) return Buffer.alloc(0);
  const units = Buffer.from(password + '\0', 'utf16le');
  return units.swap16();
}

/** The PKCS#12 key derivation function (RFC 7292 Appendix B.2). */
export function pkcs12Kdf(
  hash: { name: string; block: number; size: number },
  password: Buffer,
  salt: Buffer,
  id: number,
  iterations: number,
  length: number,
): Buffer {
  const v = hash.block;
  const repeatTo = (src: Buffer): Buffer => {
    const len = v * Math.ceil(src.length / v);
    const out = Buffer.alloc(len);
    for (let i = 0; i < len; i++) out[i] = src[i % src.length];
    return out;
  };
  const d = Buffer.alloc(v, id);
  const i = Buffer.concat([
    salt.length ? repeatTo(salt) : salt,
    password.length ? repeatTo(password) : password,
  ]);
  const out: Buffer[] = [];
  for (let produced = 0; produced < length; produced += hash.size) {
    let a = crypto.createHash(hash.name).update(d).update(i).digest();
    for (let r = 1; r < iterations; r++) a = crypto.createHash(hash.name).update(a).digest();
    out.push(a);
    const b = repeatTo(a).subarray(0, v);
    for (let j = 0; j < i.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[j + k] + b[k] + carry;
        i[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, length);
}

const badPassword = (what: string): RelayError =>
  new RelayError('bad_password', `the password does not open the ${what}`);

function decryptPbes2(params: BerNode, data: Buffer, secret: Secret, what: string): Buffer {
  const kdf = child(params, 0);
  if (oidOf(child(kdf, 0)) !== P12.pbkdf2) throw new BerError('only PBKDF2 is supported in PBES2');
  const kdfParams = child(kdf, 1);
  const salt = child(kdfParams, 0).content;
  const iterations = iterationsOf(child(kdfParams, 1));
  const prfNode = kdfParams.children.find((c) => c.tag === 16);
  const prf = prfNode ? PRF_BY_OID[oidOf(child(prfNode, 0))] : 'sha1';
  const enc = child(params, 1);
  const cipher = CIPHER_BY_OID[oidOf(child(enc, 0))];
  if (!prf || !cipher) throw new BerError('unsupported PBES2 algorithm');
  const key = crypto.pbkdf2Sync(secret.utf8, salt, iterations, cipher.keyLength, prf);
  try {
    const d = crypto.createDecipheriv(cipher.name, key, child(enc, 1).content);
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    throw badPassword(what);
  }
}

function decrypt(alg: BerNode, data: Buffer, secret: Secret, what: string): Buffer {
  const algOid = oidOf(child(alg, 0));
  if (algOid === P12.pbes2) return decryptPbes2(child(alg, 1), data, secret, what);
  const pbe = PKCS12_PBE[algOid];
  if (!pbe)
    throw new RelayError('bad_certificate', `the ${what} uses an unsupported cipher (${algOid})`);
  const params = child(alg, 1);
  const salt = child(params, 0).content;
  const iterations = iterationsOf(child(params, 1));
  const sha1 = DIGEST_BY_OID['1.3.14.3.2.26'];
  const pw = secret.bmp;
  const key = pkcs12Kdf(sha1, pw, salt, 1, iterations, pbe.keyLength);
  const iv = pkcs12Kdf(sha1, pw, salt, 2, iterations, 8);
  try {
    if (pbe.rc2Bits) return rc2CbcDecrypt(key, pbe.rc2Bits, iv, data);
    const d = crypto.createDecipheriv(pbe.cipher, key, iv);
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    throw badPassword(what);
  }
}

/**
 * Check the file's MAC; returns the BMPString form of the password that opened it (an empty
 * password is written either as an empty BMPString or as no password at all).
 */
function verifyMac(
  pfx: BerNode,
  authSafe: Buffer,
  password: string | undefined,
): Buffer | undefined {
  const macData = pfx.children[2];
  if (!macData) return undefined;
  const digestInfo = child(macData, 0);
  const algOid = oidOf(child(child(digestInfo, 0), 0));
  if (algOid === P12.pbmac1) {
    throw new RelayError(
      'bad_certificate',
      'PKCS#12 files protected with PBMAC1 are not supported yet',
    );
  }
  const hash = DIGEST_BY_OID[algOid];
  if (!hash)
    throw new RelayError(
      'bad_certificate',
      `the PKCS#12 MAC uses an unsupported digest (${algOid})`,
    );
  const expected = child(digestInfo, 1).content;
  const salt = child(macData, 1).content;
  const iterations = iterationsOf(macData.children[2]);
  const candidates = password ? [bmpPassword(password)] : [bmpPassword(''), Buffer.alloc(0)];
  for (const pw of candidates) {
    const key = pkcs12Kdf(hash, pw, salt, 3, iterations, hash.size);
    const mac = crypto.createHmac(hash.name, key).update(authSafe).digest();
    if (mac.length === expected.length && crypto.timingSafeEqual(mac, expected)) return pw;
  }
  throw badPassword('PKCS#12 file');
}

function readSafeContents(der: Buffer, secret: Secret, out: Pkcs12Contents): void {
  for (const bag of parseBer(der).children) {
    const bagId = oidOf(child(bag, 0));
    const value = child(child(bag, 1), 0);
    if (bagId === P12.keyBag) out.keys.push(value.encoded);
    else if (bagId === P12.shroudedKeyBag) {
      out.keys.push(decrypt(child(value, 0), child(value, 1).content, secret, 'private key'));
    } else if (bagId === P12.certBag && oidOf(child(value, 0)) === P12.x509Certificate) {
      out.certificates.push(child(child(value, 1), 0).content);
    }
  }
}

/** Open a PKCS#12 file; throws bad_password or bad_certificate. */
export function readPkcs12(file: Buffer, password: string | undefined): Pkcs12Contents {
  try {
    const pfx = parseBer(file);
    if (intOf(child(pfx, 0)) !== 3) throw new BerError('not a version 3 PFX');
    const authSafeInfo = child(pfx, 1);
    if (oidOf(child(authSafeInfo, 0)) !== P12.data) {
      throw new RelayError(
        'bad_certificate',
        'PKCS#12 files with public-key integrity are not supported',
      );
    }
    const authSafe = child(child(authSafeInfo, 1), 0).content;
    const macPassword = verifyMac(pfx, authSafe, password);
    const secret: Secret = {
      bmp: macPassword ?? bmpPassword(password),
      utf8: Buffer.from(password ?? '', 'utf8'),
    };
    const out: Pkcs12Contents = { keys: [], certificates: [] };
    for (const info of parseBer(authSafe).children) {
      const type = oidOf(child(info, 0));
      const content = child(child(info, 1), 0);
      if (type === P12.data) readSafeContents(content.content, secret, out);
      else if (type === P12.encryptedData) {
        const eci = child(content, 1);
        const encrypted = contextChild(eci, 0);
        if (!encrypted) continue;
        readSafeContents(
          decrypt(child(eci, 1), encrypted.content, secret, 'certificates'),
          secret,
          out,
        );
      }
    }
    return out;
  } catch (e) {
    if (e instanceof RelayError) throw e;
    throw new RelayError('bad_certificate', 'the file is not a readable PKCS#12 (.p12/.pfx) file', {
      cause: e,
    });
  }
}
