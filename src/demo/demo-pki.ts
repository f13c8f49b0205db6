/**
 * A throw-away PKI for the demo, made with the openssl command: a root CA and an S/MIME
 * signing certificate for news@demo.example (RSA-2048, keyUsage digitalSignature, EKU
 * emailProtection), bundled as PKCS#12 under a random password. The CA stays in `dir` so
 * the signed message can be checked later; the signing key leaves only inside the PKCS#12.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { opensslOk } from './openssl-cli';

export const DEMO_SENDER = 'news@demo.example';

export interface DemoPki {
  /** The root CA certificate (PEM file) to verify against. */
  caPath: string;
  /** The signing certificate (PEM file). */
  certPath: string;
  /** The PKCS#12 bundle (certificate, key, CA) and its password, in memory only. */
  pkcs12: Buffer;
  password: string;
}

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no

[dn]
CN = placeholder

[demo_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[demo_smime]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = emailProtection
subjectAltName = email:${DEMO_SENDER}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

export async function createDemoPki(dir: string): Promise<DemoPki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string): string => join(dir, name);
  writeFileSync(file('openssl.cnf'), OPENSSL_CONFIG);
  const transient = ['news.key.pem', 'news.csr', 'news.p12'].map(file);
  const password = randomBytes(18).toString('base64url');
  try {
    // prettier-ignore
    await opensslOk('create the demo CA', [
      'req', '-x509', '-config', file('openssl.cnf'), '-extensions', 'demo_ca',
      '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '365',
      '-subj', '/O=smime-relay demo/CN=smime-relay demo CA',
      '-keyout', file('ca.key.pem'), '-out', file('ca.pem'),
    ]);
    // prettier-ignore
    await opensslOk('create the demo signing key', [
      'req', '-new', '-config', file('openssl.cnf'),
      '-newkey', 'rsa:2048', '-nodes', '-sha256',
      '-subj', `/O=smime-relay demo/CN=Demo News/emailAddress=${DEMO_SENDER}`,
      '-keyout', file('news.key.pem'), '-out', file('news.csr'),
    ]);
    // prettier-ignore
    await opensslOk('issue the demo S/MIME certificate', [
      'x509', '-req', '-in', file('news.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key.pem'),
      '-set_serial', `0x${randomBytes(12).toString('hex')}`, '-days', '365', '-sha256',
      '-extfile', file('openssl.cnf'), '-extensions', 'demo_smime', '-out', file('news.pem'),
    ]);
    // prettier-ignore
    await opensslOk('bundle the demo certificate as PKCS#12', [
      'pkcs12', '-export', '-in', file('news.pem'), '-inkey', file('news.key.pem'),
      '-certfile', file('ca.pem'), '-name', 'Demo News', '-passout', 'env:DEMO_P12_PASSWORD',
      '-out', file('news.p12'),
    ], { DEMO_P12_PASSWORD: password });
    return {
      caPath: file('ca.pem'),
      certPath: file('news.pem'),
      pkcs12: readFileSync(file('news.p12')),
      password,
    };
  } finally {
    for (const path of transient) rmSync(path, { force: true });
  }
}
