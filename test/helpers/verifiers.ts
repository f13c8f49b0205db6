/**
 * Three independent S/MIME verifiers for the engine tests: OpenSSL `cms -verify`, GnuPG
 * `gpgsm`, and NSS `cmsutil`. Each takes a complete signed message (RFC 5322, CRLF) and the
 * {@link TestPki}, and returns `{ ok, output }`.
 *
 * What each verifier accepts on this machine (OpenSSL 3.0.19, gpgsm 2.2.40 / libgcrypt 1.10.1,
 * NSS 3.87.1), measured with `openssl cms -sign` messages, detached and opaque alike
 * (encoded in {@link supports}; checked by verifiers.test.ts):
 *
 * - RSA-2048/3072 PKCS#1 v1.5 with SHA-1/256/384/512: openssl yes, gpgsm yes, nss yes.
 * - RSA-PSS with salt length = digest length (`rsa_pss_saltlen:digest`): all three yes.
 * - RSA-PSS with another salt length, e.g. OpenSSL's default for `rsa_padding_mode:pss`, the
 *   maximum (222 bytes for RSA-2048/SHA-256): openssl yes, nss yes, gpgsm NO ("PSS hash
 *   algorithm 'SHA256' rejected due to salt length 222", BADSIG, then gpgsm aborts with
 *   "free(): double free detected", exit 134).
 * - ECDSA P-256 with SHA-256/384/512, P-384 with SHA-384/512: all three yes.
 * - ECDSA P-384 with SHA-256: openssl yes, nss yes, gpgsm NO ("a 256 bit hash is not valid for
 *   a 384 bit ECC key"; it still prints GOODSIG + TRUST_FULLY but exits 2).
 * - ECDSA with SHA-1 (any curve): openssl yes, nss yes, gpgsm NO (digest shorter than curve).
 *
 * Certificate problems (encoded in {@link rejectsIdentity}; checked by verifiers.test.ts):
 * - `expired`, `notYetValid`, `noDigitalSignature`: all three reject. (gpgsm exits 0 for the
 *   expired and the keyEncipherment-only cert; only its EXPKEYSIG / "ERROR verify.keyusage"
 *   status lines tell, which is why the gpgsm wrapper parses status lines.)
 * - `serverAuthOnly`: openssl and nss reject; gpgsm ACCEPTS, because gpgsm only enforces an
 *   extendedKeyUsage extension marked critical (ours is not, as in real TLS certificates).
 * - `rsa1024`: all three ACCEPT (OpenSSL security level 1, no gpgsm `min-rsa-length`, NSS
 *   policy allows 1024-bit RSA). Refusing weak keys is the engine's job.
 * - `legacyEmail` (address only in subject emailAddress): all accept. None of the wrappers
 *   compares the From address with the certificate.
 * - Intermediate missing from the message: only openssl notices (gpgsm and nss have the
 *   intermediate in their databases; gpgsm also keeps every certificate it has seen).
 * - Unknown root, even if the message carries it: all three reject (openssl "certificate verify
 *   error", gpgsm GOODSIG + TRUST_UNDEFINED + exit 2, nss SigningCertNotTrusted with exit 0).
 */
import type { IdentityName, KeyType, TestPki } from './pki';
import type { VerifyResult } from './pki-exec';
import { verifyWithGpgsm } from './gpgsm';
import { verifyWithCmsutil } from './nss';
import { verifyWithOpenssl } from './openssl';

export type { VerifyResult } from './pki-exec';
export { signWithOpenssl, verifyWithOpenssl, type OpensslSignOptions } from './openssl';
export { verifyWithGpgsm, gpgsmHome } from './gpgsm';
export { verifyWithCmsutil, nssDb } from './nss';
export { splitSignedMessage, type SignedParts } from './verifier-mime';

export type VerifierName = 'openssl' | 'gpgsm' | 'nss';
export const VERIFIERS: readonly VerifierName[] = ['openssl', 'gpgsm', 'nss'];
export type Digest = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** A signature algorithm combination, as produced by the signer under test. */
export interface AlgorithmSpec {
  keyType: KeyType;
  /** RSASSA-PSS instead of PKCS#1 v1.5 (RSA keys only). */
  pss?: boolean;
  /** Message digest (default sha256). */
  digest?: Digest;
  /** PSS salt length in bytes, or 'digest' (= digest length, default) or 'max'. */
  pssSaltLength?: 'digest' | 'max' | number;
}

/** Whether a verifier can check a combination, and why not. */
export type Support = { supported: true } | { supported: false; reason: string };

const DIGEST_BYTES: Record<Digest, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

/**
 * Tells whether `verifier` can verify a (correct) signature made with `alg` on this machine,
 * per the matrix at the top of this file. Use it to skip what a verifier cannot check.
 */
export function supports(verifier: VerifierName, alg: AlgorithmSpec): Support {
  const digest = alg.digest ?? 'sha256';
  if (alg.pss && !alg.keyType.startsWith('rsa')) {
    return { supported: false, reason: 'RSA-PSS needs an RSA key' };
  }
  if (verifier !== 'gpgsm') return { supported: true };
  if (alg.pss) {
    const salt = alg.pssSaltLength ?? 'digest';
    if (salt !== 'digest' && salt !== DIGEST_BYTES[digest]) {
      return {
        supported: false,
        reason: `gpgsm 2.2.40 only accepts RSA-PSS with salt length = digest length (${DIGEST_BYTES[digest]}), got ${salt}`,
      };
    }
  }
  const curveBytes = alg.keyType === 'p256' ? 32 : alg.keyType === 'p384' ? 48 : 0;
  if (DIGEST_BYTES[digest] < curveBytes) {
    return {
      supported: false,
      reason: `gpgsm 2.2.40 rejects a ${DIGEST_BYTES[digest] * 8} bit digest with a ${curveBytes * 8} bit ECC key`,
    };
  }
  return { supported: true };
}

/** For `node:test`'s `skip` option: `false` when supported, else the reason. */
export function skipUnlessSupported(verifier: VerifierName, alg: AlgorithmSpec): string | false {
  const s = supports(verifier, alg);
  return s.supported ? false : `${verifier}: ${s.reason}`;
}

const LENIENT: Partial<Record<IdentityName, Partial<Record<VerifierName, string>>>> = {
  serverAuthOnly: { gpgsm: 'gpgsm ignores a non-critical extendedKeyUsage extension' },
  rsa1024: {
    openssl: 'OpenSSL 3.0 default security level 1 accepts 1024-bit RSA',
    gpgsm: 'gpgsm has no minimum RSA length by default',
    nss: 'NSS 3.87 default policy accepts 1024-bit RSA',
  },
};

/**
 * Whether `verifier` reports not-ok for a message correctly signed by the (bad) identity
 * `name`; `{ rejects: false, reason }` where the verifier accepts it anyway. Only meaningful
 * for the bad identities (`expired`, `notYetValid`, `serverAuthOnly`, `noDigitalSignature`,
 * `rsa1024`); `mismatchedKey` cannot produce a valid signature at all.
 */
export function rejectsIdentity(
  verifier: VerifierName,
  name: IdentityName,
): { rejects: true } | { rejects: false; reason: string } {
  const reason = LENIENT[name]?.[verifier];
  return reason ? { rejects: false, reason } : { rejects: true };
}

const IMPL: Record<VerifierName, (msg: Buffer, pki: TestPki) => Promise<VerifyResult>> = {
  openssl: verifyWithOpenssl,
  gpgsm: verifyWithGpgsm,
  nss: verifyWithCmsutil,
};

/** Runs one verifier by name. */
export function verifyWith(
  verifier: VerifierName,
  msg: Buffer,
  pki: TestPki,
): Promise<VerifyResult> {
  return IMPL[verifier](msg, pki);
}

/** Runs all three verifiers (in parallel) on the same message. */
export async function verifyWithAll(
  msg: Buffer,
  pki: TestPki,
): Promise<Record<VerifierName, VerifyResult>> {
  const [openssl, gpgsm, nss] = await Promise.all(VERIFIERS.map((v) => verifyWith(v, msg, pki)));
  return { openssl, gpgsm, nss };
}
