import { explicit, integer, nullValue, oid, seq } from './der';

export type HashName = 'sha256' | 'sha384' | 'sha512';
export const HASHES: readonly HashName[] = ['sha256', 'sha384', 'sha512'];

export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  smimeCapabilities: '1.2.840.113549.1.9.15',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  emailAddress: '1.2.840.113549.1.9.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  sha384WithRSA: '1.2.840.113549.1.1.12',
  sha512WithRSA: '1.2.840.113549.1.1.13',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  sha1: '1.3.14.3.2.26',
  aes128Cbc: '2.16.840.1.101.3.4.1.2',
  aes192Cbc: '2.16.840.1.101.3.4.1.22',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  aes128Gcm: '2.16.840.1.101.3.4.1.6',
  aes256Gcm: '2.16.840.1.101.3.4.1.46',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  anyExtendedKeyUsage: '2.5.29.37.0',
  emailProtection: '1.3.6.1.5.5.7.3.4',
} as const;

export const HASH_OID: Record<HashName, string> = {
  sha256: OID.sha256,
  sha384: OID.sha384,
  sha512: OID.sha512,
};

/** micalg parameter values of RFC 8551 §3.5.3.2. */
export const MICALG: Record<HashName, string> = {
  sha256: 'sha-256',
  sha384: 'sha-384',
  sha512: 'sha-512',
};

export const HASH_LENGTH: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** AlgorithmIdentifier for a SHA-2 digest: parameters absent (RFC 5754 §2). */
export const digestAlgorithm = (hash: HashName): Buffer => seq(oid(HASH_OID[hash]));

export type SignatureScheme = 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa';

const ECDSA_OID: Record<HashName, string> = {
  sha256: OID.ecdsaWithSha256,
  sha384: OID.ecdsaWithSha384,
  sha512: OID.ecdsaWithSha512,
};

/** The signatureAlgorithm of a SignerInfo (RFC 3370, RFC 4056, RFC 5753). */
export function signatureAlgorithm(scheme: SignatureScheme, hash: HashName): Buffer {
  switch (scheme) {
    case 'rsa-pkcs1':
      return seq(oid(OID.rsaEncryption), nullValue());
    case 'ecdsa':
      return seq(oid(ECDSA_OID[hash]));
    case 'rsa-pss': {
      const hashAlg = digestAlgorithm(hash);
      return seq(
        oid(OID.rsassaPss),
        seq(
          explicit(0, hashAlg),
          explicit(1, seq(oid(OID.mgf1), hashAlg)),
          explicit(2, integer(HASH_LENGTH[hash])),
        ),
      );
    }
  }
}
