/**
 * Small P-256 PKIs with broken and sound certificate paths, built with the openssl CLI for
 * the chain tests: a good root → intermediate → leaf chain, an intermediate without the CA
 * flag, one without keyCertSign, a pathLen:0 intermediate that issued another intermediate,
 * a name-chaining mismatch, a forged intermediate, a short-lived intermediate, a rogue root
 * and a loop of cross-certificates. Each certificate is known by a short name.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  certificatesFrom,
  parseCertificate,
  type CertificateInfo,
} from '../../src/smime/certificate';
import { generateKey } from './pki';
import { runOk } from './pki-exec';

const CONFIG = `[ req ]
distinguished_name = req_dn
[ req_dn ]
[ v3_root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ca_pathlen0 ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ca_open ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ not_ca ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ no_keycertsign ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ee ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = emailProtection
subjectAltName = email:news@example.com
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

export interface Made {
  pem: string;
  info: CertificateInfo;
  keyPem: string;
}

export interface ChainPki {
  made: Record<string, Made>;
  cert(name: string): CertificateInfo;
  pems(...names: string[]): string[];
  /** A moment after every certificate was made (their notBefore is the second they were). */
  madeAt: Date;
  remove(): Promise<void>;
}

/** Builds every certificate named above in a temporary directory (a few seconds). */
export async function createChainPki(): Promise<ChainPki> {
  const dir = await mkdtemp(join(tmpdir(), 'smime-chain-pki-'));
  const made: Record<string, Made> = {};
  async function key(name: string): Promise<void> {
    await generateKey('p256', join(dir, `${name}.key`));
  }

  async function remember(name: string, keyName = name): Promise<void> {
    const pem = await readFile(join(dir, `${name}.pem`), 'utf8');
    const keyPem = await readFile(join(dir, `${keyName}.key`), 'utf8');
    made[name] = { pem, info: parseCertificate(certificatesFrom(pem)[0]), keyPem };
  }

  /** A self-signed CA certificate `name` for `keyName`'s key. */
  async function selfSigned(name: string, cn: string, keyName = name): Promise<void> {
    // prettier-ignore
    await runOk('openssl', [
      'req', '-x509', '-new', '-config', join(dir, 'openssl.cnf'), '-extensions', 'v3_root',
      '-key', join(dir, `${keyName}.key`), '-subj', `/CN=${cn}`, '-days', '3650', '-sha256',
      '-out', join(dir, `${name}.pem`),
    ]);
    await remember(name, keyName);
  }

  /** Certificate `name` (for `keyName`'s key) issued by `issuer` (signed with `issuerKey`). */
  async function issue(
    name: string,
    cn: string,
    issuer: string,
    ext: string,
    opts: { keyName?: string; issuerKey?: string; days?: number } = {},
  ): Promise<void> {
    const keyName = opts.keyName ?? name;
    const csr = join(dir, `${name}.csr`);
    // prettier-ignore
    await runOk('openssl', [
      'req', '-new', '-config', join(dir, 'openssl.cnf'), '-key', join(dir, `${keyName}.key`),
      '-subj', `/CN=${cn}`, '-out', csr,
    ]);
    // prettier-ignore
    await runOk('openssl', [
      'x509', '-req', '-in', csr, '-CA', join(dir, `${issuer}.pem`),
      '-CAkey', join(dir, `${opts.issuerKey ?? issuer}.key`), '-set_serial', `${Object.keys(made).length + 100}`,
      '-days', String(opts.days ?? 1825), '-sha256', '-extfile', join(dir, 'openssl.cnf'),
      '-extensions', ext, '-out', join(dir, `${name}.pem`),
    ]);
    await remember(name, keyName);
  }

  await writeFile(join(dir, 'openssl.cnf'), CONFIG);
  const keys = ['root', 'rogue', 'int', 'notCa', 'noKcs', 'sub', 'short', 'forged', 'a', 'b'];
  const leaves = ['leaf', 'leafNotCa', 'leafNoKcs', 'leafSub', 'leafAlias', 'leafShort'];
  await Promise.all([...keys, ...leaves, 'leafLoop'].map(key));
  await Promise.all([
    selfSigned('root', 'Chain Test Root'),
    selfSigned('rogue', 'Chain Test Rogue Root'),
    selfSigned('a0', 'Loop A', 'a'),
    selfSigned('b0', 'Loop B', 'b'),
  ]);
  await Promise.all([
    issue('int', 'Chain Test Intermediate', 'root', 'ca_pathlen0'),
    issue('notCa', 'Not A CA', 'root', 'not_ca'),
    issue('noKcs', 'No KeyCertSign', 'root', 'no_keycertsign'),
    issue('short', 'Short-Lived Intermediate', 'root', 'ca_open', { days: 1 }),
    // The intermediate's name, another key.
    issue('forged', 'Chain Test Intermediate', 'root', 'ca_open'),
    // The intermediate cross-signed by a root that is neither in the pool nor trusted.
    issue('intCross', 'Chain Test Intermediate', 'rogue', 'ca_open', { keyName: 'int' }),
    // The intermediate's key under another name.
    issue('alias', 'Alias Intermediate', 'root', 'ca_open', { keyName: 'int' }),
    // Loop A (key a) issued by Loop B (key b), and Loop B issued by Loop A.
    issue('aByB', 'Loop A', 'b0', 'ca_open', { keyName: 'a', issuerKey: 'b' }),
    issue('bByA', 'Loop B', 'a0', 'ca_open', { keyName: 'b', issuerKey: 'a' }),
  ]);
  await Promise.all([
    issue('leaf', 'Chain Test Leaf', 'int', 'ee', { days: 365 }),
    issue('leafNotCa', 'Leaf Under Not A CA', 'notCa', 'ee'),
    issue('leafNoKcs', 'Leaf Under No KeyCertSign', 'noKcs', 'ee'),
    // A pathlen:0 intermediate issuing another intermediate.
    issue('sub', 'Sub Intermediate', 'int', 'ca_open'),
    issue('leafAlias', 'Leaf Under Alias', 'alias', 'ee', { issuerKey: 'int' }),
    issue('leafShort', 'Leaf Under Short-Lived', 'short', 'ee', { days: 365 }),
    issue('leafLoop', 'Leaf Under Loop', 'aByB', 'ee', { issuerKey: 'a' }),
  ]);
  await issue('leafSub', 'Leaf Under Sub', 'sub', 'ee');
  return {
    made,
    cert: (name) => made[name].info,
    pems: (...names) => names.map((n) => made[n].pem),
    madeAt: new Date(Date.now() + 2000),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
