/**
 * An advisory linter for S/MIME signing certificates: the CA/Browser Forum S/MIME Baseline
 * Requirements (S/MIME BR 1.0.x) and RFC 8550 / RFC 5280 / RFC 5480. It never refuses anything
 * itself; the hard checks on upload stay in src/smime/identity.ts.
 *
 * The S/MIME BR section numbers and rules below were checked against the BR text as published
 * by the CA/B Forum (github.com/cabforum/smime, SBR.md, versions 1.0.0 and 1.0.10; the rules
 * used here are the same in both except where a comment says otherwise).
 *
 * Severities:
 * - error: the certificate breaks a rule that holds for every S/MIME certificate (key, signature
 *   hash, email purpose, cA), or mail clients refuse it;
 * - warning: it breaks a rule of the BR profile it claims (validity, subject fields, strict
 *   extensions) that clients do not check but that CA linters and audits flag, or something
 *   clients may trip over;
 * - notice: worth knowing, not a fault.
 * Rules that exist only in the BR are checked only for certificates that carry a BR policy OID;
 * a certificate from a private CA is checked against the RFCs and what clients do.
 *
 * Client behaviour named in messages was tried with OpenSSL 3.0 (`openssl verify -purpose
 * smimesign`) and NSS 3.87, Thunderbird's certificate library (`certutil -V -u S`). Nothing
 * else is named.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID } from '../smime/algorithms';
import { isSelfIssued, parseCertificate, type CertificateInfo } from '../smime/certificate';
import { bytesOf, children, contentOf, decodeOid, readTlv } from '../smime/der';

export interface LintFinding {
  code: string;
  severity: 'error' | 'warning' | 'notice';
  message: string;
  reference: string;
}

export type ProfileType = 'mailbox' | 'organization' | 'sponsor' | 'individual';
export type Generation = 'legacy' | 'multipurpose' | 'strict';

export interface LintReport {
  profile: { type: ProfileType | null; generation: Generation | null; policyOid: string | null };
  findings: LintFinding[];
}

/** OIDs not in ../smime/algorithms. */
const X = {
  certificatePolicies: '2.5.29.32',
  crlDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  caIssuers: '1.3.6.1.5.5.7.48.2',
  smtpUtf8Mailbox: '1.3.6.1.5.5.7.8.9',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
  x25519: '1.3.101.110',
  x448: '1.3.101.111',
  dsa: '1.2.840.10040.4.1',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  p521: '1.3.132.0.35',
  secp256k1: '1.3.132.0.10',
} as const;

/** S/MIME BR 7.1.6.1: 2.23.140.1.5.<type>.<generation>. */
const BR_POLICY = /^2\.23\.140\.1\.5\.([1-4])\.([1-3])$/;
const TYPES: Record<string, ProfileType> = {
  '1': 'mailbox',
  '2': 'organization',
  '3': 'sponsor',
  '4': 'individual',
};
const GENERATIONS: Record<string, Generation> = {
  '1': 'legacy',
  '2': 'multipurpose',
  '3': 'strict',
};
const TYPE_NAMES: Record<ProfileType, string> = {
  mailbox: 'mailbox-validated',
  organization: 'organization-validated',
  sponsor: 'sponsor-validated',
  individual: 'individual-validated',
};

/** S/MIME BR 7.1.6.1 (Ballot SMC08, BR 1.0.6): no Legacy issuance from this day on. */
const LEGACY_ISSUANCE_END = Date.UTC(2025, 6, 15);

/** S/MIME BR 6.3.2. */
const MAX_VALIDITY_DAYS: Record<Generation, number> = {
  strict: 825,
  multipurpose: 825,
  legacy: 1185,
};

/** S/MIME BR 7.1.3.2: the only signature AlgorithmIdentifier encodings allowed (hex). */
const SIGNATURE_ENCODINGS: Record<string, string[]> = {
  [OID.sha256WithRSA]: ['300d06092a864886f70d01010b0500'],
  [OID.sha384WithRSA]: ['300d06092a864886f70d01010c0500'],
  [OID.sha512WithRSA]: ['300d06092a864886f70d01010d0500'],
  [OID.rsassaPss]: [
    // SHA-256, MGF1 with SHA-256, salt 32; then SHA-384/48 and SHA-512/64.
    '304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120',
    '304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130',
    '304106092a864886f70d01010a3034a00f300d06096086480165030402030500a11c301a06092a864886f70d010108300d06096086480165030402030500a203020140',
  ],
  [OID.ecdsaWithSha256]: ['300a06082a8648ce3d040302'],
  [OID.ecdsaWithSha384]: ['300a06082a8648ce3d040303'],
  [OID.ecdsaWithSha512]: ['300a06082a8648ce3d040304'],
  [X.ed25519]: ['300506032b6570'],
  [X.ed448]: ['300506032b6571'],
};
const MD5_SIGNATURES = new Set(['1.2.840.113549.1.1.4', '1.2.840.113549.1.1.2']); // md5, md2
const SHA1_SIGNATURES = new Set([
  '1.2.840.113549.1.1.5', // sha1WithRSAEncryption
  '1.3.14.3.2.29', // sha1WithRSASignature (OIW)
  '1.2.840.10045.4.1', // ecdsa-with-SHA1
  '1.2.840.10040.4.3', // dsa-with-sha1
]);

/** Subject attribute names of S/MIME BR 7.1.4.2.2. */
const ATTRIBUTES: Record<string, string> = {
  '2.5.4.3': 'commonName',
  '2.5.4.10': 'organizationName',
  '2.5.4.11': 'organizationalUnitName',
  '2.5.4.97': 'organizationIdentifier',
  '2.5.4.42': 'givenName',
  '2.5.4.4': 'surname',
  '2.5.4.65': 'pseudonym',
  '2.5.4.5': 'serialNumber',
  [OID.emailAddress]: 'emailAddress',
  '2.5.4.12': 'title',
  '2.5.4.9': 'streetAddress',
  '2.5.4.7': 'localityName',
  '2.5.4.8': 'stateOrProvinceName',
  '2.5.4.17': 'postalCode',
  '2.5.4.6': 'countryName',
};

const TABLE_SECTION: Record<ProfileType, string> = {
  mailbox: '7.1.4.2.3',
  organization: '7.1.4.2.4',
  sponsor: '7.1.4.2.5',
  individual: '7.1.4.2.6',
};

/**
 * Whether a subject attribute SHALL NOT appear, from the tables of S/MIME BR 7.1.4.2.3 to
 * 7.1.4.2.6 (identical in BR 1.0.0 and 1.0.10). `name` is undefined for "Other" attributes.
 */
function attributeForbidden(type: ProfileType, generation: Generation, name?: string): boolean {
  if (type === 'mailbox') {
    return !(name === 'commonName' || name === 'serialNumber' || name === 'emailAddress');
  }
  if (name === undefined) return generation !== 'legacy';
  if ((name === 'streetAddress' || name === 'postalCode') && generation === 'strict') return true;
  if (type === 'organization') {
    return ['givenName', 'surname', 'pseudonym', 'title'].includes(name);
  }
  if (type === 'individual') {
    return ['organizationName', 'organizationalUnitName', 'organizationIdentifier'].includes(name);
  }
  return false;
}

const LOOKS_LIKE_ADDRESS = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type KeyKind = 'rsa' | 'ec' | 'eddsa' | 'other';

interface Context {
  der: Buffer;
  info: CertificateInfo;
  cert: pkijs.Certificate;
  extensions: Map<string, pkijs.Extension>;
  type: ProfileType | null;
  generation: Generation | null;
  keyKind: KeyKind;
  now: Date;
  add: (
    code: string,
    severity: LintFinding['severity'],
    message: string,
    reference: string,
  ) => void;
}

const extensionBytes = (e: pkijs.Extension): Buffer =>
  Buffer.from(e.extnValue.valueBlock.valueHexView);

/** The pkijs parsed value of an extension, or an exception when pkijs could not read it. */
function parsedAs<T>(e: pkijs.Extension, type: abstract new (...args: never[]) => T): T {
  const v: unknown = e.parsedValue;
  if (!(v instanceof type) || (v as { parsingError?: string }).parsingError) {
    throw new Error(`extension ${e.extnID} is malformed`);
  }
  return v;
}

/**
 * Lint an S/MIME signing certificate (DER) and the intermediates uploaded with it (DER, any
 * order). Never throws: a certificate that cannot be read gives one `unreadable_certificate`.
 */
export function lintSmimeCertificate(
  leafDer: Buffer,
  chainDers: Buffer[],
  now: Date = new Date(),
): LintReport {
  const findings: LintFinding[] = [];
  const add: Context['add'] = (code, severity, message, reference) =>
    findings.push({ code, severity, message, reference });
  let info: CertificateInfo;
  let cert: pkijs.Certificate;
  try {
    info = parseCertificate(leafDer);
    cert = pkijs.Certificate.fromBER(new Uint8Array(leafDer));
  } catch {
    add(
      'unreadable_certificate',
      'error',
      'The file could not be read as an X.509 certificate, so no mail client can use it; upload the certificate in PEM or DER form.',
      'RFC 5280 §4.1',
    );
    return { profile: { type: null, generation: null, policyOid: null }, findings };
  }
  const extensions = new Map<string, pkijs.Extension>();
  for (const e of cert.extensions ?? []) extensions.set(e.extnID, e);

  const ctx: Context = {
    der: leafDer,
    info,
    cert,
    extensions,
    type: null,
    generation: null,
    keyKind: 'other',
    now,
    add,
  };
  let profile: LintReport['profile'] = { type: null, generation: null, policyOid: null };
  guard(ctx, 'certificate policies', () => {
    profile = checkPolicies(ctx);
    ctx.type = profile.type;
    ctx.generation = profile.generation;
  });
  guard(ctx, 'validity', () => checkValidity(ctx));
  guard(ctx, 'public key', () => checkKey(ctx));
  guard(ctx, 'signature algorithm', () => checkSignatureAlgorithm(ctx));
  guard(ctx, 'key usage', () => checkKeyUsage(ctx));
  guard(ctx, 'extended key usage', () => checkExtKeyUsage(ctx));
  guard(ctx, 'subject or subject alternative name', () => checkNames(ctx));
  guard(ctx, 'basic constraints', () => checkBasicConstraints(ctx));
  guard(ctx, 'CRL or CA certificate addresses', () => checkRevocationAndIssuerPointers(ctx));
  guard(ctx, 'chain links', () => checkChain(ctx, chainDers));
  return { profile, findings };
}

/** Run one check; a malformed part of the certificate becomes a finding, never an exception. */
function guard(ctx: Context, part: string, check: () => void): void {
  try {
    check();
  } catch {
    ctx.add(
      'malformed_extension',
      'warning',
      `Part of the certificate (${part}) is malformed and could not be checked; mail clients may not be able to read it either.`,
      'RFC 5280 §4.2',
    );
  }
}

function checkPolicies(ctx: Context): LintReport['profile'] {
  const ext = ctx.extensions.get(X.certificatePolicies);
  const ids = ext
    ? parsedAs(ext, pkijs.CertificatePolicies).certificatePolicies.map((p) => p.policyIdentifier)
    : [];
  const reserved = ids.filter((id) => BR_POLICY.test(id));
  if (reserved.length === 0) {
    ctx.add(
      'no_smime_br_policy',
      'notice',
      'The certificate does not claim to follow the CA/B Forum S/MIME Baseline Requirements (it is probably from a private or company CA): readers whose mail client trusts that CA will accept it, others will see an untrusted signature.',
      'S/MIME BR 7.1.2.3(a), 7.1.6.1',
    );
    return { type: null, generation: null, policyOid: null };
  }
  if (reserved.length > 1) {
    ctx.add(
      'multiple_smime_br_policies',
      'warning',
      `The certificate names ${reserved.length} S/MIME Baseline Requirements profiles (${reserved.join(', ')}) where exactly one is allowed; the first one is used here.`,
      'S/MIME BR 7.1.2.3(a)',
    );
  }
  const [, t, g] = BR_POLICY.exec(reserved[0]) ?? [];
  const profile = { type: TYPES[t], generation: GENERATIONS[g], policyOid: reserved[0] };
  if (profile.generation === 'legacy') {
    const issuedLate = ctx.info.notBefore.getTime() >= LEGACY_ISSUANCE_END;
    ctx.add(
      'legacy_generation',
      'warning',
      issuedLate
        ? 'The certificate uses a "legacy" S/MIME profile although it was issued on or after 15 July 2025, when CAs had to stop issuing legacy certificates; ask your CA about it, as it may have to be revoked.'
        : 'The certificate uses a "legacy" S/MIME profile, which CAs may no longer issue since 15 July 2025; it stays usable until it expires, but the renewal will be a multipurpose or strict certificate.',
      'S/MIME BR 7.1.6.1 (Ballot SMC08)',
    );
  }
  return profile;
}

function checkValidity(ctx: Context): void {
  const { notBefore, notAfter } = ctx.info;
  if (ctx.now > notAfter) {
    ctx.add(
      'certificate_expired',
      'error',
      `The certificate expired on ${notAfter.toISOString().slice(0, 10)}; mail clients show new signatures made with it as invalid.`,
      'RFC 5280 §4.1.2.5',
    );
  } else if (ctx.now < notBefore) {
    ctx.add(
      'certificate_not_yet_valid',
      'error',
      `The certificate is valid only from ${notBefore.toISOString()}; mail clients reject signatures made before then.`,
      'RFC 5280 §4.1.2.5',
    );
  }
  if (!ctx.generation) return;
  // BR 6.3.2 with the Validity Period of BR 1.6.1 (RFC 5280: notBefore through notAfter,
  // inclusive): a day is 86,400 seconds and any part of a day counts as a day. So
  // `openssl x509 -days 825` (825 days and 1 second) is already 826 days.
  const seconds = (notAfter.getTime() - notBefore.getTime()) / 1000 + 1;
  const days = Math.ceil(seconds / 86_400);
  const max = MAX_VALIDITY_DAYS[ctx.generation];
  if (days > max) {
    ctx.add(
      'validity_too_long',
      'warning',
      `The certificate is valid for ${days} days, longer than the ${max} days the S/MIME Baseline Requirements allow for ${ctx.generation} certificates; mail clients do not check this, but it marks a certificate the CA should not have issued.`,
      'S/MIME BR 6.3.2',
    );
  }
}

/** Bit length of the RSA modulus in an RSAPublicKey (RFC 8017 A.1.1). */
function modulusBits(publicKey: Buffer): number {
  const [modulus] = children(publicKey, readTlv(publicKey, 0));
  let bytes = contentOf(publicKey, modulus);
  while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.subarray(1);
  return bytes.length === 0 ? 0 : (bytes.length - 1) * 8 + (32 - Math.clz32(bytes[0]));
}

function checkKey(ctx: Context): void {
  const spki = ctx.cert.subjectPublicKeyInfo;
  const algorithm = spki.algorithm.algorithmId;
  if (algorithm === OID.rsaEncryption || algorithm === OID.rsassaPss) {
    ctx.keyKind = 'rsa';
    const bits = modulusBits(Buffer.from(spki.subjectPublicKey.valueBlock.valueHexView));
    if (bits < 2048) {
      ctx.add(
        'rsa_key_too_small',
        'error',
        `The certificate has a ${bits}-bit RSA key; at least 2048 bits are required, and smime-relay will not sign with it.`,
        'S/MIME BR 6.1.5',
      );
    }
    if (bits % 8 !== 0) {
      ctx.add(
        'rsa_key_size_not_multiple_of_8',
        'warning',
        `The RSA key has ${bits} bits, which is not a multiple of 8 as the S/MIME Baseline Requirements require; some software handles such keys badly.`,
        'S/MIME BR 6.1.5',
      );
    }
    if (algorithm === OID.rsassaPss) {
      ctx.add(
        'rsa_pss_key',
        'warning',
        'The RSA key is marked as an RSASSA-PSS-only key, an encoding the S/MIME Baseline Requirements do not allow (they require the ordinary rsaEncryption identifier); ask for a certificate with an ordinary RSA key.',
        'S/MIME BR 7.1.3.1.1',
      );
    }
  } else if (algorithm === OID.ecPublicKey) {
    ctx.keyKind = 'ec';
    const params = spki.algorithm.algorithmParams;
    const curve = params instanceof asn1js.ObjectIdentifier ? params.getValue() : undefined;
    if (curve !== X.p256 && curve !== X.p384 && curve !== X.p521) {
      const name =
        curve === X.secp256k1
          ? 'secp256k1'
          : curve
            ? `curve ${curve}`
            : 'explicitly encoded curve parameters';
      ctx.add(
        'ec_curve_not_allowed',
        'error',
        `The certificate has an elliptic-curve key on ${name}; only P-256, P-384 and P-521 are allowed, and smime-relay will not sign with it.`,
        'S/MIME BR 6.1.5, 7.1.3.1.2',
      );
    }
  } else if (algorithm === X.ed25519 || algorithm === X.ed448) {
    ctx.keyKind = 'eddsa';
    ctx.add(
      'eddsa_key',
      'notice',
      `The certificate has an ${algorithm === X.ed25519 ? 'Ed25519' : 'Ed448'} key: the S/MIME Baseline Requirements allow it, but smime-relay signs only with RSA or ECDSA keys, so it cannot sign with this certificate.`,
      'S/MIME BR 6.1.5, 7.1.3.1.3',
    );
  } else {
    const name =
      algorithm === X.x25519
        ? 'X25519 (key agreement only, it cannot sign)'
        : algorithm === X.x448
          ? 'X448 (key agreement only, it cannot sign)'
          : algorithm === X.dsa
            ? 'DSA'
            : `algorithm ${algorithm}`;
    ctx.add(
      'key_algorithm_not_allowed',
      'error',
      `The certificate's key is ${name}; S/MIME certificates must have an RSA, ECDSA or EdDSA key, and smime-relay cannot sign with this one.`,
      'S/MIME BR 7.1.3.1',
    );
  }
}

function checkSignatureAlgorithm(ctx: Context): void {
  const algorithm = ctx.cert.signatureAlgorithm.algorithmId;
  const encoded = bytesOf(ctx.der, children(ctx.der, readTlv(ctx.der, 0))[1]).toString('hex');
  const sha1 = (): void =>
    ctx.add(
      'signature_sha1',
      'error',
      'The CA signed this certificate with SHA-1, a broken hash the S/MIME Baseline Requirements forbid; ask the CA for a certificate signed with SHA-256 or better.',
      'S/MIME BR 7.1.3.2',
    );
  if (MD5_SIGNATURES.has(algorithm)) {
    ctx.add(
      'signature_md5',
      'error',
      'The CA signed this certificate with MD5 (or MD2), a broken hash the S/MIME Baseline Requirements forbid; ask the CA for a certificate signed with SHA-256 or better.',
      'S/MIME BR 7.1.3.2',
    );
  } else if (SHA1_SIGNATURES.has(algorithm)) {
    sha1();
  } else if (algorithm === OID.rsassaPss) {
    let hash: string | undefined;
    try {
      // RSASSA-PSS-params without a hashAlgorithm mean SHA-1 (RFC 4055 §3.1).
      const params = new pkijs.RSASSAPSSParams({
        schema: ctx.cert.signatureAlgorithm.algorithmParams,
      });
      hash = params.hashAlgorithm.algorithmId;
    } catch {
      hash = undefined;
    }
    if (hash === OID.sha1) sha1();
    else if (!SIGNATURE_ENCODINGS[OID.rsassaPss].includes(encoded)) {
      ctx.add(
        'rsa_pss_parameters',
        'warning',
        'The certificate is signed with RSASSA-PSS parameters other than the three combinations the S/MIME Baseline Requirements allow (SHA-256/384/512 with MGF1 of the same hash and a salt as long as the hash).',
        'S/MIME BR 7.1.3.2.1',
      );
    }
  } else if (ctx.type && !SIGNATURE_ENCODINGS[algorithm]) {
    ctx.add(
      'signature_algorithm_not_allowed',
      'warning',
      `The CA signed this certificate with algorithm ${algorithm}, which is not one the S/MIME Baseline Requirements allow (RSA or ECDSA with SHA-256/384/512, or EdDSA).`,
      'S/MIME BR 7.1.3.2',
    );
  }
}

/** KeyUsage bits (RFC 5280 §4.2.1.3) as a set of names. */
function keyUsageBits(value: Buffer): Set<string> {
  const bits = contentOf(value, readTlv(value, 0));
  const names = [
    'digitalSignature',
    'nonRepudiation',
    'keyEncipherment',
    'dataEncipherment',
    'keyAgreement',
    'keyCertSign',
    'cRLSign',
    'encipherOnly',
    'decipherOnly',
  ];
  const set = new Set<string>();
  names.forEach((name, i) => {
    const byte = bits[1 + (i >> 3)] ?? 0;
    if (byte & (0x80 >> (i & 7))) set.add(name);
  });
  return set;
}

/** Bits S/MIME BR 7.1.2.3(e) allows in some generation, by key type. */
const KEY_USAGE_ALLOWED: Record<Exclude<KeyKind, 'other'>, string[]> = {
  rsa: ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment'],
  ec: ['digitalSignature', 'nonRepudiation', 'keyAgreement', 'encipherOnly', 'decipherOnly'],
  eddsa: ['digitalSignature', 'nonRepudiation'],
};

function checkKeyUsage(ctx: Context): void {
  const ext = ctx.extensions.get(OID.keyUsage);
  if (!ext) {
    // RFC 5280 lets a certificate without keyUsage be used for anything; only the BR wants it.
    if (ctx.type) {
      ctx.add(
        'key_usage_missing',
        'warning',
        'The certificate has no key usage extension, which the S/MIME Baseline Requirements require; mail clients accept it, but a public CA should not have issued it.',
        'S/MIME BR 7.1.2.3(e)',
      );
    }
    return;
  }
  const bits = keyUsageBits(extensionBytes(ext));
  if (!bits.has('digitalSignature')) {
    const nonRepudiationOnly = bits.has('nonRepudiation');
    // RFC 8550 §4.4.2 accepts nonRepudiation alone for signing (OpenSSL and NSS do too); the BR
    // requires digitalSignature for every signing certificate.
    ctx.add(
      'key_usage_no_digital_signature',
      ctx.type || !nonRepudiationOnly ? 'error' : 'notice',
      nonRepudiationOnly
        ? 'The key usage has nonRepudiation but not digitalSignature; OpenSSL and NSS (used by Thunderbird) accept that for signing, but the S/MIME Baseline Requirements require digitalSignature on every signing certificate.'
        : 'The certificate is not allowed to sign (its key usage has neither digitalSignature nor nonRepudiation), so OpenSSL and NSS (used by Thunderbird) reject signatures made with it.',
      'S/MIME BR 7.1.2.3(e); RFC 8550 §4.4.2',
    );
  }
  // RFC 5480 §3 forbids keyEncipherment with id-ecPublicKey, whatever the CA.
  if (ctx.keyKind === 'ec' && bits.has('keyEncipherment')) {
    ctx.add(
      'key_usage_ec_key_encipherment',
      'error',
      'The certificate has an elliptic-curve key but claims the keyEncipherment usage, which EC keys cannot do (they use keyAgreement); the CA issued it wrongly.',
      'S/MIME BR 7.1.2.3(e); RFC 5480 §3',
    );
  }
  if (!ctx.type || ctx.keyKind === 'other') return;
  const allowed = KEY_USAGE_ALLOWED[ctx.keyKind];
  // keyEncipherment on an EC key is reported above as key_usage_ec_key_encipherment.
  const forbidden = [...bits].filter(
    (b) => !allowed.includes(b) && !(ctx.keyKind === 'ec' && b === 'keyEncipherment'),
  );
  // encipherOnly/decipherOnly are allowed only together with keyAgreement.
  if (ctx.keyKind === 'ec' && !bits.has('keyAgreement')) {
    for (const b of ['encipherOnly', 'decipherOnly']) if (bits.has(b)) forbidden.push(b);
  }
  if (forbidden.length > 0) {
    ctx.add(
      'key_usage_forbidden_bit',
      'error',
      `The key usage includes ${forbidden.join(', ')}, which no S/MIME certificate with this kind of key may have; the CA issued it wrongly.`,
      'S/MIME BR 7.1.2.3(e)',
    );
  }
  // The RSA column of the table differs between generations only in dataEncipherment:
  // Multipurpose and Legacy MAY set it, Strict lists no such option ("other bit positions
  // SHALL NOT be set"). keyEncipherment is allowed for RSA in every generation.
  if (ctx.keyKind === 'rsa' && ctx.generation === 'strict' && bits.has('dataEncipherment')) {
    ctx.add(
      'key_usage_strict_data_encipherment',
      'warning',
      'The key usage includes dataEncipherment, which strict S/MIME certificates may not have (only multipurpose and legacy ones may).',
      'S/MIME BR 7.1.2.3(e)',
    );
  }
}

function checkExtKeyUsage(ctx: Context): void {
  const ext = ctx.extensions.get(OID.extKeyUsage);
  if (!ext) {
    // RFC 8550 §4.4.4 lets clients accept a certificate without extKeyUsage; the BR does not.
    if (ctx.type) {
      ctx.add(
        'ext_key_usage_missing',
        'error',
        'The certificate has no extended key usage, which every S/MIME certificate under the Baseline Requirements must have with emailProtection; the CA issued it wrongly.',
        'S/MIME BR 7.1.2.3(f)',
      );
    }
    return;
  }
  const purposes = parsedAs(ext, pkijs.ExtKeyUsage).keyPurposes;
  if (!purposes.includes(OID.emailProtection)) {
    ctx.add(
      'ext_key_usage_no_email_protection',
      'error',
      'The certificate is not issued for email (its extended key usage lacks emailProtection), so OpenSSL and NSS (used by Thunderbird) reject signatures made with it.',
      'S/MIME BR 7.1.2.3(f); RFC 8550 §4.4.4',
    );
  }
  if (!ctx.type) return;
  if (purposes.includes(OID.anyExtendedKeyUsage)) {
    ctx.add(
      'ext_key_usage_any',
      'error',
      'The extended key usage includes anyExtendedKeyUsage, which the S/MIME Baseline Requirements forbid in every S/MIME certificate; the CA issued it wrongly.',
      'S/MIME BR 7.1.2.3(f)',
    );
  }
  const names: Record<string, string> = {
    [X.serverAuth]: 'serverAuth',
    [X.codeSigning]: 'codeSigning',
    [X.timeStamping]: 'timeStamping',
  };
  const forbidden = purposes.filter((p) => names[p]);
  if (forbidden.length > 0) {
    ctx.add(
      'ext_key_usage_forbidden',
      'error',
      `The extended key usage includes ${forbidden.map((p) => names[p]).join(', ')}, which the S/MIME Baseline Requirements forbid in every S/MIME certificate; the CA issued it wrongly.`,
      'S/MIME BR 7.1.2.3(f)',
    );
  }
  if (ctx.generation === 'strict') {
    const extra = purposes.filter(
      (p) => p !== OID.emailProtection && p !== OID.anyExtendedKeyUsage && !names[p],
    );
    if (extra.length > 0) {
      ctx.add(
        'ext_key_usage_strict_extra',
        'warning',
        `The extended key usage of this strict certificate includes ${extra.join(', ')} besides emailProtection; strict certificates may only have emailProtection (multipurpose ones may have more).`,
        'S/MIME BR 7.1.2.3(f)',
      );
    }
  }
}

/** rfc822Name and SmtpUTF8Mailbox values of the subjectAltName, lower-cased. */
function sanMailboxes(value: Buffer): string[] {
  const out: string[] = [];
  for (const gn of children(value, readTlv(value, 0))) {
    if (gn.tag === 0x81) out.push(contentOf(value, gn).toString('latin1').toLowerCase());
    else if (gn.tag === 0xa0) {
      // otherName: type-id, [0] EXPLICIT value (RFC 9598: a UTF8String).
      const [typeId, explicit] = children(value, gn);
      if (explicit && decodeOid(contentOf(value, typeId)) === X.smtpUtf8Mailbox) {
        const inner = readTlv(value, explicit.contentStart, explicit.end);
        out.push(contentOf(value, inner).toString('utf8').toLowerCase());
      }
    }
  }
  return out;
}

/** The subject's attributes in order, as [OID, text]. */
function subjectAttributes(cert: pkijs.Certificate): [string, string][] {
  return cert.subject.typesAndValues.map((tv) => {
    const v = (tv.value as { valueBlock?: { value?: unknown } }).valueBlock?.value;
    return [tv.type, typeof v === 'string' ? v : ''];
  });
}

function checkNames(ctx: Context): void {
  const san = ctx.extensions.get(OID.subjectAltName);
  const mailboxes = san ? sanMailboxes(extensionBytes(san)) : [];
  const attributes = subjectAttributes(ctx.cert);
  const subjectEmails = attributes.filter(([t]) => t === OID.emailAddress).map(([, v]) => v);
  if (mailboxes.length === 0) {
    // RFC 8550 §3 has receiving agents recognise a subject emailAddress as well (smime-relay's
    // parseCertificate reads it too), so for a private CA this is a warning; the BR requires
    // the subjectAltName.
    const subjectOnly = !ctx.type && subjectEmails.length > 0;
    ctx.add(
      'san_no_mailbox',
      subjectOnly ? 'warning' : 'error',
      subjectOnly
        ? 'The email address appears only in the old subject emailAddress field and not in the subject alternative name; mail clients that read only the subject alternative name will report an address mismatch.'
        : 'The certificate names no email address in its subject alternative name, so mail clients cannot match it to the sender address and show the signature as not matching.',
      'S/MIME BR 7.1.2.3(h), 7.1.4.2.1; RFC 8550 §3',
    );
  } else {
    const looksLikeAddress = attributes
      .filter(([t, v]) => t === OID.emailAddress || (t === '2.5.4.3' && LOOKS_LIKE_ADDRESS.test(v)))
      .map(([, v]) => v);
    const missing = looksLikeAddress.filter((a) => !mailboxes.includes(a.toLowerCase()));
    if (missing.length > 0) {
      ctx.add(
        'subject_email_not_in_san',
        'warning',
        `The subject names ${[...new Set(missing)].join(', ')}, which is not repeated in the subject alternative name as the S/MIME Baseline Requirements require; mail clients that read only the subject alternative name will not match that address.`,
        'S/MIME BR 7.1.4.2.1, 7.1.4.2.2(a)',
      );
    }
  }
  if (!ctx.type || !ctx.generation) return;
  checkSubjectTable(ctx, ctx.type, ctx.generation, attributes);
}

function checkSubjectTable(
  ctx: Context,
  type: ProfileType,
  generation: Generation,
  attributes: [string, string][],
): void {
  const reference = `S/MIME BR ${TABLE_SECTION[type]}`;
  const present = new Set(attributes.map(([t]) => t));
  const notAllowed = [...present].filter((t) =>
    attributeForbidden(type, generation, ATTRIBUTES[t]),
  );
  if (notAllowed.length > 0) {
    ctx.add(
      'subject_attribute_not_allowed',
      'warning',
      `The subject includes ${notAllowed.map((t) => ATTRIBUTES[t] ?? t).join(', ')}, which a ${generation} ${TYPE_NAMES[type]} certificate may not carry; mail clients do not mind, but the CA issued it wrongly.`,
      reference,
    );
  }
  const missing: string[] = [];
  if (type === 'organization' || type === 'sponsor') {
    if (!present.has('2.5.4.10')) missing.push('organizationName');
    if (!present.has('2.5.4.97')) missing.push('organizationIdentifier');
  }
  // Note 2 of 7.1.4.2.5 and 7.1.4.2.6: Multipurpose and Strict need a personal name or pseudonym.
  if ((type === 'sponsor' || type === 'individual') && generation !== 'legacy') {
    if (!['2.5.4.42', '2.5.4.4', '2.5.4.65'].some((t) => present.has(t))) {
      missing.push('givenName/surname or pseudonym');
    }
  }
  if (missing.length > 0) {
    ctx.add(
      'subject_attribute_missing',
      'warning',
      `The subject lacks ${missing.join(' and ')}, which a ${generation} ${TYPE_NAMES[type]} certificate must carry; mail clients do not mind, but the CA issued it wrongly.`,
      reference,
    );
  }
  if (type === 'mailbox') {
    const names = attributes.filter(([t]) => t === '2.5.4.3').map(([, v]) => v);
    if (names.some((v) => !LOOKS_LIKE_ADDRESS.test(v))) {
      ctx.add(
        'subject_cn_not_mailbox',
        'warning',
        'The common name of this mailbox-validated certificate is not an email address, but in this profile it may only hold the mailbox address.',
        'S/MIME BR 7.1.4.2.2(a)',
      );
    }
  }
}

function checkBasicConstraints(ctx: Context): void {
  const ext = ctx.extensions.get(OID.basicConstraints);
  if (ext && parsedAs(ext, pkijs.BasicConstraints).cA) {
    ctx.add(
      'leaf_is_ca',
      'error',
      'The certificate is a CA certificate (basicConstraints cA is true), not a personal or sender certificate; NSS (used by Thunderbird) rejects it for signing email.',
      'S/MIME BR 7.1.2.3(d); RFC 5280 §4.2.1.9',
    );
  }
}

function checkRevocationAndIssuerPointers(ctx: Context): void {
  // A self-issued certificate has no issuer to point to.
  if (isSelfIssued(ctx.info)) return;
  const aia = ctx.extensions.get(X.authorityInfoAccess);
  const caIssuers =
    aia !== undefined &&
    parsedAs(aia, pkijs.InfoAccess).accessDescriptions.some((d) => d.accessMethod === X.caIssuers);
  if (!caIssuers) {
    ctx.add(
      'aia_ca_issuers_missing',
      'notice',
      'The certificate does not say where to download its issuing CA certificate (authorityInfoAccess caIssuers), so readers who lack the intermediate cannot fetch it; smime-relay includes uploaded intermediates in every message.',
      'S/MIME BR 7.1.2.3(c)',
    );
  }
  const crl = ctx.extensions.get(X.crlDistributionPoints);
  const hasUri =
    crl !== undefined &&
    parsedAs(crl, pkijs.CRLDistributionPoints).distributionPoints.some(
      (dp) => Array.isArray(dp.distributionPoint) && dp.distributionPoint.some((g) => g.type === 6),
    );
  if (!hasUri) {
    // The BR requires a CRL URL in every subscriber certificate; a private CA need not have one.
    ctx.add(
      'crl_distribution_points_missing',
      ctx.type ? 'warning' : 'notice',
      'The certificate has no CRL download address, so mail clients cannot check whether it was revoked.',
      'S/MIME BR 7.1.2.3(b)',
    );
  }
}

function checkChain(ctx: Context, chainDers: Buffer[]): void {
  const leaf = ctx.info;
  const pool: CertificateInfo[] = [];
  chainDers.forEach((der, i) => {
    try {
      pool.push(parseCertificate(der));
    } catch {
      ctx.add(
        'chain_certificate_unreadable',
        'warning',
        `Chain certificate number ${i + 1} could not be read as an X.509 certificate and was ignored.`,
        'RFC 5280 §4.1',
      );
    }
  });
  if (isSelfIssued(leaf)) {
    ctx.add(
      'self_signed_certificate',
      'notice',
      'The certificate is self-signed: no mail client trusts it unless each reader installs it by hand.',
      'RFC 5280 §6.1',
    );
    return;
  }
  if (pool.length === 0) {
    ctx.add(
      'chain_missing',
      'notice',
      'No intermediate certificates were uploaded: readers whose mail client does not already have the issuing CA certificate may not be able to build the chain.',
      'RFC 8550 §2.3; RFC 5280 §6.1',
    );
    return;
  }
  // Name chaining from the leaf up (S/MIME BR 7.1.4.1: the issuer name is byte-for-byte the
  // issuing CA's subject name), as identity.ts builds the chain.
  const path: CertificateInfo[] = [];
  let current = leaf;
  while (!isSelfIssued(current) && path.length < pool.length) {
    const issuerDer = current.issuerDer;
    const issuer = pool.find((c) => c.subjectDer.equals(issuerDer) && !path.includes(c));
    if (!issuer) break;
    path.push(issuer);
    current = issuer;
  }
  if (path.length === 0) {
    ctx.add(
      'chain_issuer_not_found',
      'warning',
      `None of the uploaded chain certificates issued this certificate (its issuer is ${leaf.issuer}); readers may not be able to build the chain.`,
      'S/MIME BR 7.1.4.1; RFC 5280 §6.1',
    );
  }
  const unused = pool.filter((c) => !path.includes(c));
  if (unused.length > 0 && path.length > 0) {
    ctx.add(
      'chain_certificate_unused',
      'notice',
      `The uploaded chain includes certificates that are not on the path to this certificate (${unused.map((c) => c.subject).join('; ')}).`,
      'RFC 5280 §6.1',
    );
  }
  // A root's extKeyUsage is a separate question (BR 7.1.2.1); only intermediates are checked.
  for (const ca of path.filter((c) => !isSelfIssued(c))) {
    if (ca.extKeyUsage && !ca.extKeyUsage.includes(OID.emailProtection)) {
      ctx.add(
        'intermediate_no_email_protection',
        // An error, not a warning: both clients tried refuse the whole chain (OpenSSL 3.0:
        // "unsuitable certificate purpose"; NSS 3.87: "Issuer certificate is invalid").
        'error',
        `The intermediate ${ca.subject} is not issued for email (its extended key usage lacks emailProtection), so OpenSSL and NSS (used by Thunderbird) reject the chain.`,
        'S/MIME BR 7.1.2.2(g)',
      );
    }
  }
}
