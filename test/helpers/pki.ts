/**
 * Test PKI for the S/MIME engine tests, built with the `openssl` CLI (OpenSSL 3.0).
 *
 * Layout: RSA-2048 root CA -> RSA-2048 intermediate CA (pathlen 0) -> end-entity certificates.
 * Everything is written to one directory (a fresh `mkdtemp` under `os.tmpdir()` unless a `dir`
 * is given; temp dirs are removed at process exit unless `SMIME_TEST_KEEP_PKI=1`).
 * `createTestPki()` is cached per process and per `dir`, so many test files pay once.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runOk } from './pki-exec';
import {
  LEGACY_EMAIL,
  ORG,
  SAN_EMAILS,
  SPECS,
  opensslConfig,
  type IdentityName,
  type KeyType,
} from './pki-config';

export { LEGACY_EMAIL, SAN_EMAILS, type IdentityName, type KeyType } from './pki-config';

/** Password of every `p12` / `p12Legacy` file. */
export const P12_PASSWORD = 'p12-pass';
/** Password of every `encryptedKeyPem` (PKCS#8, AES-256-CBC + PBKDF2/HMAC-SHA256). */
export const KEY_PASSWORD = 'secret-pass';
/** One end-entity certificate with its private key in various encodings. */
export interface TestIdentity {
  name: IdentityName;
  keyType: KeyType;
  /** Subject as OpenSSL's one-line `/CN=.../O=...` form. */
  subject: string;
  /** Addresses the certificate is valid for (SAN, or the legacy subject attribute). */
  emails: string[];
  certPem: string;
  certPath: string;
  /** Unencrypted PKCS#8 (`-----BEGIN PRIVATE KEY-----`). */
  keyPem: string;
  keyPath: string;
  /** PKCS#1 (`BEGIN RSA PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE KEY`); rsa2048 and p256 only. */
  pkcs1or_sec1KeyPem?: string;
  pkcs1or_sec1KeyPath?: string;
  /** Encrypted PKCS#8 (`BEGIN ENCRYPTED PRIVATE KEY`), password {@link KEY_PASSWORD}; rsa2048, p256. */
  encryptedKeyPem?: string;
  encryptedKeyPath?: string;
  /**
   * Modern PKCS#12 (AES-256-CBC, PBKDF2, SHA-256 MAC), password {@link P12_PASSWORD}, with the
   * intermediate as extra cert. Present for every identity except `mismatchedKey`.
   */
  p12?: Buffer;
  p12Path?: string;
  /** Legacy PKCS#12 (`-legacy`: RC2-40 certs, 3DES key, SHA-1 MAC), {@link P12_PASSWORD}; rsa2048, p256. */
  p12Legacy?: Buffer;
  p12LegacyPath?: string;
  /** Modern PKCS#12 with the empty password; rsa2048, p256. */
  p12NoPassword?: Buffer;
  p12NoPasswordPath?: string;
}

/** The whole test PKI. All paths are absolute and inside `dir`. */
export interface TestPki {
  dir: string;
  rootPem: string;
  rootPath: string;
  rootKeyPath: string;
  intermediatePem: string;
  intermediatePath: string;
  intermediateKeyPath: string;
  /** The intermediate only (what a signer should include). Same content as `intermediatePath`. */
  chainPath: string;
  /** Intermediate followed by root. */
  bundlePath: string;
  /** Path of the OpenSSL config with the extension sections used (v3_root, ee_smime, ...). */
  configPath: string;
  identities: Record<IdentityName, TestIdentity>;
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] & 0x3f) | 0x10;
  return `0x${b.toString('hex')}`;
}

/** Generates an unencrypted PKCS#8 private key of the given type at `path`. */
export async function generateKey(type: KeyType, path: string): Promise<void> {
  const opts =
    type === 'p256' || type === 'p384'
      ? ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${type === 'p256' ? 'P-256' : 'P-384'}`]
      : ['-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${type.slice(3)}`];
  await runOk('openssl', ['genpkey', ...opts, '-out', path]);
}

const cache = new Map<string, Promise<TestPki>>();

/** Builds (once per process and `dir`) the test PKI described in {@link TestPki}. */
export function createTestPki(dir?: string): Promise<TestPki> {
  const key = dir ?? '';
  let p = cache.get(key);
  if (!p) {
    p = build(dir);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function build(givenDir?: string): Promise<TestPki> {
  let dir: string;
  if (givenDir) {
    dir = resolve(givenDir);
    mkdirSync(dir, { recursive: true });
  } else {
    dir = mkdtempSync(join(tmpdir(), 'smime-test-pki-'));
    if (process.env.SMIME_TEST_KEEP_PKI !== '1') {
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    }
  }
  const p = (name: string): string => join(dir, name);
  const configPath = p('openssl.cnf');
  writeFileSync(configPath, opensslConfig(dir));
  for (const ca of ['ca_expired', 'ca_notYetValid']) {
    mkdirSync(p(ca), { recursive: true });
    writeFileSync(join(p(ca), 'index.txt'), '');
  }
  const cfg = ['-config', configPath];
  const subj = (cn: string, extra = ''): string => `/CN=${cn}/O=${ORG}${extra}`;
  const csr = (keyPath: string, subject: string, out: string): Promise<unknown> =>
    runOk('openssl', ['req', '-new', ...cfg, '-key', keyPath, '-subj', subject, '-out', out]);

  const rootReady = (async () => {
    await generateKey('rsa2048', p('root.key'));
    // prettier-ignore
    await runOk('openssl', [
      'req', '-x509', '-new', ...cfg, '-extensions', 'v3_root', '-key', p('root.key'),
      '-subj', subj('smime-relay Test Root CA'), '-days', '7300', '-sha256',
      '-set_serial', serial(), '-out', p('root.pem'),
    ]);
  })();
  const intermediateReady = (async () => {
    await generateKey('rsa2048', p('intermediate.key'));
    await csr(p('intermediate.key'), subj('smime-relay Test Intermediate CA'), p('int.csr'));
    await rootReady;
    // prettier-ignore
    await runOk('openssl', [
      'x509', '-req', '-in', p('int.csr'), '-CA', p('root.pem'), '-CAkey', p('root.key'),
      '-set_serial', serial(), '-days', '5475', '-sha256',
      '-extfile', configPath, '-extensions', 'v3_intermediate', '-out', p('intermediate.pem'),
    ]);
    const int = readFileSync(p('intermediate.pem'), 'utf8');
    writeFileSync(p('chain.pem'), int);
    writeFileSync(p('bundle.pem'), int + readFileSync(p('root.pem'), 'utf8'));
  })();

  async function buildIdentity(name: IdentityName): Promise<TestIdentity> {
    const spec = SPECS[name];
    const f = (suffix: string): string => p(`${name}${suffix}`);
    const legacy = name === 'legacyEmail';
    const subject = subj(spec.cn, legacy ? `/emailAddress=${LEGACY_EMAIL}` : '');
    await generateKey(spec.key, f('.cert-key.pem'));
    await csr(f('.cert-key.pem'), subject, f('.csr'));
    const ext = ['-extfile', configPath, '-extensions', spec.ext ?? 'ee_smime'];
    await intermediateReady;
    const issuer = ['-cert', p('intermediate.pem'), '-keyfile', p('intermediate.key')];
    if (spec.dates) {
      // prettier-ignore
      await runOk('openssl', [
        'ca', '-batch', ...cfg, '-name', `ca_${name}`, ...issuer, '-in', f('.csr'),
        '-startdate', spec.dates[0], '-enddate', spec.dates[1], '-md', 'sha256',
        ...ext, '-notext', '-preserveDN', '-rand_serial', '-out', f('.pem'),
      ]);
    } else {
      // prettier-ignore
      await runOk('openssl', [
        'x509', '-req', '-in', f('.csr'), '-CA', p('intermediate.pem'),
        '-CAkey', p('intermediate.key'), '-set_serial', serial(), '-days', '1825', '-sha256',
        ...ext, '-out', f('.pem'),
      ]);
    }
    if (name === 'mismatchedKey') await generateKey(spec.key, f('.key.pem'));
    else writeFileSync(f('.key.pem'), readFileSync(f('.cert-key.pem')));

    const id: TestIdentity = {
      name,
      keyType: spec.key,
      subject,
      emails: legacy ? [LEGACY_EMAIL] : [...SAN_EMAILS],
      certPem: readFileSync(f('.pem'), 'utf8'),
      certPath: f('.pem'),
      keyPem: readFileSync(f('.key.pem'), 'utf8'),
      keyPath: f('.key.pem'),
    };
    const p12 = (out: string, pass: string, legacyP12: boolean): Promise<unknown> =>
      // prettier-ignore
      runOk('openssl', [
        'pkcs12', '-export', '-in', f('.pem'), '-inkey', f('.key.pem'),
        '-certfile', p('intermediate.pem'), '-name', spec.cn, '-passout', `pass:${pass}`,
        ...(legacyP12
          ? ['-legacy']
          : ['-keypbe', 'AES-256-CBC', '-certpbe', 'AES-256-CBC', '-macalg', 'sha256']),
        '-out', out,
      ]);
    const jobs: Promise<unknown>[] = [];
    if (name !== 'mismatchedKey') jobs.push(p12(f('.p12'), P12_PASSWORD, false));
    if (spec.extras) {
      const rsa = spec.key.startsWith('rsa');
      jobs.push(
        // prettier-ignore
        runOk('openssl', [
          rsa ? 'rsa' : 'ec', '-in', f('.key.pem'), ...(rsa ? ['-traditional'] : []),
          '-out', f('.trad-key.pem'),
        ]),
        // prettier-ignore
        runOk('openssl', [
          'pkcs8', '-topk8', '-in', f('.key.pem'), '-v2', 'aes-256-cbc',
          '-v2prf', 'hmacWithSHA256', '-passout', `pass:${KEY_PASSWORD}`, '-out', f('.enc-key.pem'),
        ]),
        p12(f('.legacy.p12'), P12_PASSWORD, true),
        p12(f('.nopass.p12'), '', false),
      );
    }
    await Promise.all(jobs);
    if (name !== 'mismatchedKey') {
      id.p12Path = f('.p12');
      id.p12 = readFileSync(id.p12Path);
    }
    if (spec.extras) {
      id.pkcs1or_sec1KeyPath = f('.trad-key.pem');
      id.pkcs1or_sec1KeyPem = readFileSync(id.pkcs1or_sec1KeyPath, 'utf8');
      id.encryptedKeyPath = f('.enc-key.pem');
      id.encryptedKeyPem = readFileSync(id.encryptedKeyPath, 'utf8');
      id.p12LegacyPath = f('.legacy.p12');
      id.p12Legacy = readFileSync(id.p12LegacyPath);
      id.p12NoPasswordPath = f('.nopass.p12');
      id.p12NoPassword = readFileSync(id.p12NoPasswordPath);
    }
    return id;
  }

  const names = Object.keys(SPECS) as IdentityName[];
  const built = await Promise.all(names.map(buildIdentity));
  await intermediateReady;
  return {
    dir,
    rootPem: readFileSync(p('root.pem'), 'utf8'),
    rootPath: p('root.pem'),
    rootKeyPath: p('root.key'),
    intermediatePem: readFileSync(p('intermediate.pem'), 'utf8'),
    intermediatePath: p('intermediate.pem'),
    intermediateKeyPath: p('intermediate.key'),
    chainPath: p('chain.pem'),
    bundlePath: p('bundle.pem'),
    configPath,
    identities: Object.fromEntries(built.map((id) => [id.name, id])) as Record<
      IdentityName,
      TestIdentity
    >,
  };
}
