/**
 * Static part of the test PKI: identity specifications and the OpenSSL config (request, `ca`
 * and extension sections) used by `createTestPki()` in ./pki.ts.
 */
import { join } from 'node:path';

/** The addresses (subjectAltName rfc822Name) of every end entity except `legacyEmail`. */
export const SAN_EMAILS = ['news@example.com', 'info@example.com'] as const;
/** The address of `legacyEmail`, only present as the subject `emailAddress` attribute. */
export const LEGACY_EMAIL = 'legacy@example.com';

export type KeyType = 'rsa1024' | 'rsa2048' | 'rsa3072' | 'p256' | 'p384';

/**
 * Names of the end-entity identities. Good ones: `rsa2048`, `rsa3072`, `p256`, `p384`,
 * `legacyEmail` (RSA-2048, address only in subject `emailAddress`, no SAN). Bad ones (all
 * RSA-2048 unless the name says otherwise, all with the normal SAN addresses, all issued by the
 * intermediate): `expired` (2020-01-01..2021-01-01), `notYetValid` (2099-01-01..2100-01-01),
 * `serverAuthOnly` (EKU serverAuth only), `noDigitalSignature` (keyUsage keyEncipherment only),
 * `rsa1024` (1024-bit key, otherwise valid), `mismatchedKey` (valid cert, but `keyPem` is an
 * unrelated RSA-2048 key).
 */
export type IdentityName =
  | 'rsa2048'
  | 'rsa3072'
  | 'p256'
  | 'p384'
  | 'legacyEmail'
  | 'expired'
  | 'notYetValid'
  | 'serverAuthOnly'
  | 'noDigitalSignature'
  | 'rsa1024'
  | 'mismatchedKey';

/** How one end-entity identity is built. */
export interface IdentitySpec {
  key: KeyType;
  cn: string;
  ext?: string;
  dates?: [string, string];
  /** Also produce PKCS#1/SEC1, encrypted PKCS#8, legacy and password-less PKCS#12. */
  extras?: boolean;
}

export const SPECS: Record<IdentityName, IdentitySpec> = {
  rsa2048: { key: 'rsa2048', cn: 'News Sender RSA-2048', extras: true },
  rsa3072: { key: 'rsa3072', cn: 'News Sender RSA-3072' },
  p256: { key: 'p256', cn: 'News Sender P-256', extras: true },
  p384: { key: 'p384', cn: 'News Sender P-384' },
  legacyEmail: { key: 'rsa2048', cn: 'Legacy Sender', ext: 'ee_legacy_email' },
  expired: { key: 'rsa2048', cn: 'Expired Sender', dates: ['20200101000000Z', '20210101000000Z'] },
  notYetValid: {
    key: 'rsa2048',
    cn: 'Future Sender',
    dates: ['20990101000000Z', '21000101000000Z'],
  },
  serverAuthOnly: { key: 'rsa2048', cn: 'Server Auth Only', ext: 'ee_server_auth' },
  noDigitalSignature: { key: 'rsa2048', cn: 'No Digital Signature', ext: 'ee_no_digsig' },
  rsa1024: { key: 'rsa1024', cn: 'Weak RSA-1024' },
  mismatchedKey: { key: 'rsa2048', cn: 'Mismatched Key' },
};

export const ORG = 'Example Org';
const EE_BASE = `basicConstraints = critical,CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid`;
const SAN = `subjectAltName = ${SAN_EMAILS.map((e) => `email:${e}`).join(',')}`;

/** The OpenSSL config file text for a PKI in `dir`. */
export function opensslConfig(dir: string): string {
  const caSection = (name: string): string => `[ ${name} ]
database = ${join(dir, name, 'index.txt')}
serial = ${join(dir, name, 'serial')}
new_certs_dir = ${join(dir, name)}
default_md = sha256
policy = policy_any
unique_subject = no
`;
  return `[ req ]
distinguished_name = req_dn
string_mask = utf8only
utf8 = yes
[ req_dn ]
[ ca ]
default_ca = ca_expired
${caSection('ca_expired')}${caSection('ca_notYetValid')}
[ policy_any ]
commonName = supplied
organizationName = optional
emailAddress = optional
[ v3_root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_intermediate ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ee_smime ]
${EE_BASE}
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = emailProtection
${SAN}
[ ee_legacy_email ]
${EE_BASE}
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = emailProtection
[ ee_server_auth ]
${EE_BASE}
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = serverAuth
${SAN}
[ ee_no_digsig ]
${EE_BASE}
keyUsage = critical,keyEncipherment
extendedKeyUsage = emailProtection
${SAN}
`;
}
