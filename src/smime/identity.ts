/**
 * A SigningIdentity is a certificate, its chain and its private key, checked once against
 * the S/MIME certificate profile (RFC 8550) and turned into ready-made DER pieces so that
 * signing a message only has to encode what changes.
 */
import * as crypto from 'node:crypto';
import { RelayError } from '../plugin/relay-error';
import { OID, type SignatureScheme } from './algorithms';
import {
  certificatesFrom,
  isSelfIssued,
  parseCertificate,
  type CertificateInfo,
} from './certificate';
import { checkIssuedChain } from './chain';
import { readPkcs12 } from './pkcs12';
import { HASH_LENGTH, type HashName } from './algorithms';

export type PemOrDer = string | Buffer;

/** A private key that signs without being handed over: in memory, on an HSM, in a KMS. */
export interface KeySigner {
  /**
   * The signature over `data` (the DER of the signed attributes): PKCS#1 v1.5 or PSS (salt
   * length = hash length, MGF1 with the same hash) for RSA, DER-encoded ECDSA-Sig-Value for EC.
   */
  sign(hash: HashName, scheme: SignatureScheme, data: Buffer): Promise<Buffer>;
}

export type IdentityInput =
  | { pkcs12: Buffer; password?: string }
  | {
      certificate: PemOrDer;
      privateKey?: PemOrDer;
      chain?: PemOrDer | PemOrDer[];
      password?: string;
    };

export interface SigningIdentity {
  readonly certificate: CertificateInfo;
  /** Intermediate certificates from the signer up, without the self-signed root. */
  readonly chain: CertificateInfo[];
  /**
   * The private key, when the relay holds it (a sealed key, a file, a PKCS#12). A key in an
   * HSM or a KMS is never here: `signer` reaches it.
   */
  readonly privateKey?: crypto.KeyObject;
  /** What signs: node:crypto with `privateKey`, or the key's custody. */
  readonly signer: KeySigner;
  readonly keyType: 'rsa' | 'ec';
  /** RSA modulus bits or EC curve name. */
  readonly keyDetail: string;
  /** Addresses this identity may sign for, lower-cased. */
  readonly emailAddresses: string[];
  /** RSA keys sign PKCS#1 v1.5 unless asked for PSS; RSA-PSS-only keys always use PSS. */
  readonly defaultScheme: SignatureScheme;
}

const CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const CURVE_NAMES: Record<string, string> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

/** DER: unencrypted PKCS#8, PKCS#1 or SEC1, else encrypted PKCS#8 with the password. */
function readDerKey(der: Buffer, password: string | undefined): crypto.KeyObject {
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return crypto.createPrivateKey({ key: der, format: 'der', type });
    } catch {
      // try the next form
    }
  }
  return crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8', passphrase: password });
}

function readPrivateKey(input: PemOrDer, password: string | undefined): crypto.KeyObject {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  const isPem = text.includes('-----BEGIN');
  try {
    if (isPem) return crypto.createPrivateKey({ key: text, format: 'pem', passphrase: password });
    return readDerKey(typeof input === 'string' ? Buffer.from(input, 'latin1') : input, password);
  } catch (e) {
    // Encrypted PEM says so in its armour; DER that no plain form reads is taken as encrypted.
    if (/ENCRYPTED/.test(text) || (!isPem && password !== undefined)) {
      const missing = password === undefined || password === '';
      throw new RelayError(
        'bad_password',
        missing
          ? 'the private key is encrypted and no password was given'
          : 'the password does not open the private key',
        { cause: e },
      );
    }
    throw new RelayError(
      'bad_private_key',
      'the private key could not be read (PKCS#8, PKCS#1 or SEC1, PEM or DER, expected)',
      { cause: e },
    );
  }
}

/**
 * A key the relay holds, signing in libuv's thread pool, so that several signatures run at
 * once on all cores while the main thread prepares the next messages.
 */
export function localSigner(key: crypto.KeyObject): KeySigner {
  return {
    sign(hash: HashName, scheme: SignatureScheme, data: Buffer): Promise<Buffer> {
      const options =
        scheme === 'rsa-pss'
          ? { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LENGTH[hash] }
          : key; // PKCS#1 v1.5 and DER-encoded ECDSA are the defaults for a bare KeyObject
      return new Promise((resolve, reject) => {
        crypto.sign(hash, data, options, (err, sig) => (err ? reject(err) : resolve(sig)));
      });
    },
  };
}

/** Checks the key's type and size: works on a public key as well as on a private one. */
function checkKey(key: crypto.KeyObject): {
  keyType: 'rsa' | 'ec';
  keyDetail: string;
  pssOnly: boolean;
} {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = details.modulusLength ?? 0;
    if (bits < 2048)
      throw new RelayError('weak_key', `the RSA key has ${bits} bits; at least 2048 are needed`);
    return { keyType: 'rsa', keyDetail: `RSA-${bits}`, pssOnly: type === 'rsa-pss' };
  }
  if (type === 'ec') {
    const curve = details.namedCurve ?? 'unknown';
    if (!CURVES.has(curve)) {
      throw new RelayError(
        'unsupported_key',
        `the EC key is on curve ${curve}; use P-256, P-384 or P-521`,
      );
    }
    return { keyType: 'ec', keyDetail: CURVE_NAMES[curve], pssOnly: false };
  }
  throw new RelayError(
    'unsupported_key',
    `${type ?? 'this'} keys are not supported; use RSA or ECDSA`,
  );
}

/** RFC 8550 §4.4: key usage and extended key usage must allow signing email. */
export function checkProfile(cert: CertificateInfo): void {
  const ku = cert.keyUsage;
  if (ku && !ku.digitalSignature && !ku.nonRepudiation) {
    throw new RelayError(
      'certificate_wrong_purpose',
      'the certificate key usage allows neither digitalSignature nor nonRepudiation',
    );
  }
  const eku = cert.extKeyUsage;
  if (eku && !eku.includes(OID.emailProtection) && !eku.includes(OID.anyExtendedKeyUsage)) {
    throw new RelayError(
      'certificate_wrong_purpose',
      'the certificate is not issued for email protection (its extended key usage lacks emailProtection)',
    );
  }
}

/**
 * The signer's issuers found in the pool by name, nearest first, stopping before a
 * self-signed root. Then the chain is checked as far as it goes (RFC 5280 structure: name
 * chaining, signatures, cA, keyCertSign, pathLenConstraint; see checkIssuedChain), including
 * the link to an uploaded root that signed it and to a certificate whose key signed the last
 * one under another name. Validity dates are left to signing time. A broken chain is refused
 * as chain_broken.
 */
function buildChain(
  signer: CertificateInfo,
  pool: CertificateInfo[],
  check = true,
): CertificateInfo[] {
  const chain: CertificateInfo[] = [];
  let current = signer;
  let above: CertificateInfo | undefined;
  while (!isSelfIssued(current) && chain.length < 10) {
    const issuer = pool.find(
      (c) => c.subjectDer.equals(current.issuerDer) && c !== current && !chain.includes(c),
    );
    // An uploaded root is checked only when it did sign the chain; it is not sent anyway.
    if (issuer && isSelfIssued(issuer) && keySigned(current, issuer)) above = issuer;
    if (!issuer || isSelfIssued(issuer)) break;
    chain.push(issuer);
    current = issuer;
  }
  if (!above && !isSelfIssued(current)) {
    // No issuer by name: one by key under another name breaks name chaining.
    above = pool.find((c) => c !== current && !chain.includes(c) && keySigned(current, c));
  }
  if (!check) return chain;
  const problem = checkIssuedChain(signer, above ? [...chain, above] : chain);
  if (problem) {
    throw new RelayError('chain_broken', `the certificate chain is broken: ${problem}`);
  }
  return chain;
}

function keySigned(child: CertificateInfo, issuer: CertificateInfo): boolean {
  try {
    return child.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

const spki = (k: crypto.KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });

function assemble(
  certs: Buffer[],
  keys: crypto.KeyObject[],
  options: LoadOptions,
  signerDer?: Buffer,
): SigningIdentity {
  if (certs.length === 0)
    throw new RelayError('bad_certificate', 'no certificate was found in the input');
  if (keys.length === 0)
    throw new RelayError('no_private_key', 'no private key was found in the input');
  const parsed = certs.map(parseCertificate);
  // The signer is the certificate whose public key matches a private key.
  let signer: CertificateInfo | undefined;
  let privateKey: crypto.KeyObject | undefined;
  for (const key of keys) {
    const pub = spki(crypto.createPublicKey(key));
    signer = parsed.find(
      (c) => (!signerDer || c.der.equals(signerDer)) && spki(c.x509.publicKey).equals(pub),
    );
    if (signer) {
      privateKey = key;
      break;
    }
  }
  if (!signer || !privateKey) {
    throw new RelayError('key_mismatch', 'the private key does not belong to the certificate');
  }
  const { keyType, keyDetail, pssOnly } = checkKey(privateKey);
  checkProfile(signer);
  return {
    certificate: signer,
    chain: buildChain(signer, parsed, options.checkChain ?? true),
    privateKey,
    signer: localSigner(privateKey),
    keyType,
    keyDetail,
    emailAddresses: signer.emailAddresses,
    defaultScheme: keyType === 'ec' ? 'ecdsa' : pssOnly ? 'rsa-pss' : 'rsa-pkcs1',
  };
}

export interface LoadOptions {
  /**
   * Check the chain's structure (default true). The certificate store turns it off for
   * identities it already accepted, so that a stricter rule never stops signing for a
   * certificate in use; uploads, the CLI and the library check.
   */
  checkChain?: boolean;
}

/** Load and check a signing identity from PKCS#12 or PEM/DER certificate and key. */
export function loadSigningIdentity(
  input: IdentityInput,
  options: LoadOptions = {},
): SigningIdentity {
  if ('pkcs12' in input) {
    const contents = readPkcs12(input.pkcs12, input.password);
    const keys = contents.keys.map((der) => readPrivateKey(der, undefined));
    return assemble(contents.certificates, keys, options);
  }
  const certs = certificatesFrom(input.certificate);
  if (certs.length === 0) {
    throw new RelayError(
      'bad_certificate',
      'no certificate was found; expected PEM "BEGIN CERTIFICATE" or DER',
    );
  }
  const chainInputs =
    input.chain === undefined ? [] : Array.isArray(input.chain) ? input.chain : [input.chain];
  let keySource = input.privateKey;
  if (keySource === undefined && /PRIVATE KEY-----/.test(input.certificate.toString('latin1'))) {
    keySource = input.certificate; // one PEM file holding both
  }
  if (keySource === undefined) {
    throw new RelayError(
      'no_private_key',
      'no private key was given; pass the key file or a PKCS#12 file',
    );
  }
  const key = readPrivateKey(keySource, input.password);
  // The first certificate is the signer; the rest, and the chain, are issuer candidates.
  return assemble([...certs, ...chainInputs.flatMap(certificatesFrom)], [key], options, certs[0]);
}

/**
 * A signing identity whose private key stays in its custody (an HSM, a KMS): the certificate
 * and chain as uploaded, the key's public half as the custody reports it, and the custody's
 * signer. The same checks as an upload with a key file: the certificate must carry this very
 * public key (key_mismatch otherwise), the key must be strong enough, the profile must allow
 * signing email, and the chain must hold together (unless `checkChain` is false).
 */
export function custodyIdentity(
  input: { certificate: PemOrDer; chain?: PemOrDer | PemOrDer[] },
  publicKeySpki: Buffer,
  signer: KeySigner,
  options: LoadOptions = {},
): SigningIdentity {
  const certs = certificatesFrom(input.certificate);
  if (certs.length === 0) {
    throw new RelayError('bad_certificate', 'no certificate was found; expected PEM or DER');
  }
  const chainInputs =
    input.chain === undefined ? [] : Array.isArray(input.chain) ? input.chain : [input.chain];
  const parsed = [...certs, ...chainInputs.flatMap(certificatesFrom)].map(parseCertificate);
  const publicKey = crypto.createPublicKey({ key: publicKeySpki, format: 'der', type: 'spki' });
  const wanted = spki(publicKey);
  // The certificate of the custody's key: the first one given, or any that carries the key.
  const signerCert =
    parsed.find((c, i) => i < certs.length && spki(c.x509.publicKey).equals(wanted)) ??
    parsed.find((c) => spki(c.x509.publicKey).equals(wanted));
  if (!signerCert) {
    throw new RelayError(
      'key_mismatch',
      'the certificate does not carry the public key of the key in its custody',
    );
  }
  const { keyType, keyDetail, pssOnly } = checkKey(publicKey);
  checkProfile(signerCert);
  return {
    certificate: signerCert,
    chain: buildChain(signerCert, parsed, options.checkChain ?? true),
    signer,
    keyType,
    keyDetail,
    emailAddresses: signerCert.emailAddresses,
    defaultScheme: keyType === 'ec' ? 'ecdsa' : pssOnly ? 'rsa-pss' : 'rsa-pkcs1',
  };
}

/** RFC 8550: the certificate must be valid at the time of signing. */
export function checkValidity(identity: SigningIdentity, now: Date): void {
  const { notBefore, notAfter } = identity.certificate;
  if (now < notBefore) {
    throw new RelayError(
      'certificate_not_yet_valid',
      `the certificate is valid only from ${notBefore.toISOString()}`,
    );
  }
  if (now > notAfter) {
    throw new RelayError(
      'certificate_expired',
      `the certificate expired on ${notAfter.toISOString()}`,
    );
  }
}
