/**
 * Test stand-in for AWS KMS on 127.0.0.1, speaking its documented AWS JSON 1.1 protocol:
 * `POST /` with `Content-Type: application/x-amz-json-1.1` and `X-Amz-Target:
 * TrentService.<Operation>` for Sign, GetPublicKey, CreateKey and DescribeKey. Every request's
 * SigV4 signature (service `kms`) is checked against the one access key it knows. The keys
 * live in memory (node:crypto key pairs); Sign with MessageType DIGEST signs the digest it is
 * given as KMS does, without hashing it again.
 *
 * Errors are answered as KMS answers them: an HTTP status (400 for client errors, 500 or 503
 * for its own), an `x-amzn-ErrorType` header and a body `{"__type": name, "message": …}`; the
 * SDK's JSON-RPC deserializer reads `__type` first, so it throws its class of that name.
 *
 * Node's `crypto.sign(null, digest, key)` does NOT sign a digest as it is: for RSA and EC
 * keys a null algorithm means the key's default digest (SHA-256), so the digest would be
 * hashed again. Hence the raw constructions here: PKCS#1 v1.5 is `privateEncrypt` of the
 * DigestInfo, PSS is EMSA-PSS (RFC 8017 §9.1.1) under `privateEncrypt` without padding, and
 * ECDSA is computed with BigInt arithmetic on the curve (FIPS 186-5 §6.4.1).
 */
import {
  constants,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  privateEncrypt,
  randomBytes,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expectedSigV4 } from '../../plugins/ses/fake-sigv4';

export interface FakeKmsCredentials {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, every request must carry it as X-Amz-Security-Token (temporary credentials). */
  sessionToken?: string;
  /** The account in the keys' ARNs. */
  accountId?: string;
}

export const FAKE_KMS_KEY_SPECS = [
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'ECC_NIST_P256',
  'ECC_NIST_P384',
] as const;
export type FakeKmsKeySpec = (typeof FAKE_KMS_KEY_SPECS)[number];
export type FakeKmsKeyUsage = 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';
export type FakeKmsTarget = 'Sign' | 'GetPublicKey' | 'CreateKey' | 'DescribeKey';

type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

interface FakeKey {
  id: string;
  arn: string;
  spec: FakeKmsKeySpec;
  usage: FakeKmsKeyUsage;
  description: string;
  state: KeyState;
  created: Date;
  deletionDate?: Date;
  privateKey: KeyObject;
  spki: Buffer;
}

export interface FakeKmsRequest {
  /** The operation, from X-Amz-Target (without `TrentService.`). */
  target: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

interface KmsErrorAnswer {
  status: number;
  type: string;
  message: string;
}

interface ScriptedError extends KmsErrorAnswer {
  /** Only for requests of this operation; any request when undefined. */
  target?: string;
}

class KmsFailure extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** The algorithms KMS lists for each key spec and usage (GetPublicKey, DescribeKey). */
const RSA_SIGNING = [
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
];
const SIGNING_ALGORITHMS: Record<FakeKmsKeySpec, string[]> = {
  RSA_2048: RSA_SIGNING,
  RSA_3072: RSA_SIGNING,
  RSA_4096: RSA_SIGNING,
  ECC_NIST_P256: ['ECDSA_SHA_256'],
  ECC_NIST_P384: ['ECDSA_SHA_384'],
};
const RSA_ENCRYPTION = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'];

type Hash = 'sha256' | 'sha384' | 'sha512';
const HASH_BYTES: Record<Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** SigningAlgorithm → how it signs: the hash and the scheme. */
function algorithm(name: string): { hash: Hash; scheme: 'pkcs1' | 'pss' | 'ecdsa' } | undefined {
  const m = /^(RSASSA_PKCS1_V1_5|RSASSA_PSS|ECDSA)_SHA_(256|384|512)$/.exec(name);
  if (!m) return undefined;
  const scheme = m[1] === 'ECDSA' ? 'ecdsa' : m[1] === 'RSASSA_PSS' ? 'pss' : 'pkcs1';
  return { hash: `sha${m[2]}` as Hash, scheme };
}

// ---------------------------------------------------------------------------------------
// Signing a digest as it is.

/** DER of DigestInfo { AlgorithmIdentifier { sha-2 OID, NULL }, OCTET STRING } up to the digest. */
const DIGEST_INFO_PREFIX: Record<Hash, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/** RSASSA-PKCS1-v1_5 over a digest: private-key operation on 00 01 FF… 00 DigestInfo. */
function pkcs1Sign(key: KeyObject, hash: Hash, digest: Buffer): Buffer {
  const info = Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, info);
}

function mgf1(hash: Hash, seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  for (let counter = 0; out.length * HASH_BYTES[hash] < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(createHash(hash).update(seed).update(c).digest());
  }
  return Buffer.concat(out).subarray(0, length);
}

/** RSASSA-PSS over a digest: EMSA-PSS-ENCODE, salt length = hash length, MGF1 with the hash. */
function pssSign(key: KeyObject, hash: Hash, digest: Buffer): Buffer {
  const modBits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const hLen = HASH_BYTES[hash];
  const salt = randomBytes(hLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(hash, h, emLen - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits);
  let em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  // The private-key operation without padding takes exactly the modulus length.
  const k = Math.ceil(modBits / 8);
  if (em.length < k) em = Buffer.concat([Buffer.alloc(k - em.length), em]);
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, em);
}

interface Curve {
  p: bigint;
  a: bigint;
  n: bigint;
  g: [bigint, bigint];
  bytes: number;
}

/** NIST P-256 and P-384 (FIPS 186-5 / SP 800-186 §3.2.1); a = p - 3. */
const CURVES: Record<'ECC_NIST_P256' | 'ECC_NIST_P384', Curve> = {
  ECC_NIST_P256: {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    a: 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    g: [
      0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
      0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
    ],
    bytes: 32,
  },
  ECC_NIST_P384: {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    a: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffcn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    g: [
      0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
      0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
    ],
    bytes: 48,
  },
};

const mod = (x: bigint, m: bigint): bigint => ((x % m) + m) % m;

function inverse(x: bigint, m: bigint): bigint {
  let [a, b, u, v] = [mod(x, m), m, 1n, 0n];
  while (b !== 0n) {
    const q = a / b;
    [a, b, u, v] = [b, a - q * b, v, u - q * v];
  }
  return mod(u, m);
}

/** A point in Jacobian coordinates (X/Z², Y/Z³); Z = 0 is the point at infinity. */
type Jacobian = [bigint, bigint, bigint];

function double(c: Curve, [x, y, z]: Jacobian): Jacobian {
  if (y === 0n || z === 0n) return [0n, 1n, 0n];
  const { p } = c;
  const y2 = mod(y * y, p);
  const s = mod(4n * x * y2, p);
  const z2 = mod(z * z, p);
  const m = mod(3n * x * x + c.a * z2 * z2, p);
  const x3 = mod(m * m - 2n * s, p);
  const y3 = mod(m * (s - x3) - 8n * y2 * y2, p);
  return [x3, y3, mod(2n * y * z, p)];
}

function add(c: Curve, a: Jacobian, b: Jacobian): Jacobian {
  if (a[2] === 0n) return b;
  if (b[2] === 0n) return a;
  const { p } = c;
  const [x1, y1, z1] = a;
  const [x2, y2, z2] = b;
  const z1z1 = mod(z1 * z1, p);
  const z2z2 = mod(z2 * z2, p);
  const u1 = mod(x1 * z2z2, p);
  const u2 = mod(x2 * z1z1, p);
  const s1 = mod(y1 * z2 * z2z2, p);
  const s2 = mod(y2 * z1 * z1z1, p);
  if (u1 === u2) return s1 === s2 ? double(c, a) : [0n, 1n, 0n];
  const h = mod(u2 - u1, p);
  const r = mod(s2 - s1, p);
  const h2 = mod(h * h, p);
  const h3 = mod(h * h2, p);
  const x3 = mod(r * r - h3 - 2n * u1 * h2, p);
  const y3 = mod(r * (u1 * h2 - x3) - s1 * h3, p);
  return [x3, y3, mod(h * z1 * z2, p)];
}

/** The affine x coordinate of k·G. */
function multiplyG(c: Curve, k: bigint): bigint {
  let result: Jacobian = [0n, 1n, 0n];
  let addend: Jacobian = [c.g[0], c.g[1], 1n];
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(c, result, addend);
    addend = double(c, addend);
  }
  const zInv = inverse(result[2], c.p);
  return mod(result[0] * zInv * zInv, c.p);
}

const toBigInt = (b: Buffer): bigint => (b.length ? BigInt(`0x${b.toString('hex')}`) : 0n);

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes = Buffer.from(n.toString(16).padStart(n > 0xff ? 4 : 2, '0'), 'hex');
  return Buffer.concat([Buffer.from([0x80 | bytes.length]), bytes]);
}

function derInteger(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02]), derLength(bytes.length), bytes]);
}

/** ECDSA over a digest (no hashing), as a DER ECDSA-Sig-Value, which is what KMS returns. */
function ecdsaSign(key: KeyObject, spec: keyof typeof CURVES, digest: Buffer): Buffer {
  const c = CURVES[spec];
  const d = toBigInt(Buffer.from(key.export({ format: 'jwk' }).d ?? '', 'base64url'));
  // bits2int: the leftmost bits of the digest, as many as the order has.
  const nBits = c.n.toString(2).length;
  let z = toBigInt(digest);
  if (digest.length * 8 > nBits) z >>= BigInt(digest.length * 8 - nBits);
  for (;;) {
    const k = mod(toBigInt(randomBytes(c.bytes + 8)), c.n - 1n) + 1n;
    const r = mod(multiplyG(c, k), c.n);
    if (r === 0n) continue;
    const s = mod(inverse(k, c.n) * (z + r * d), c.n);
    if (s === 0n) continue;
    const body = Buffer.concat([derInteger(r), derInteger(s)]);
    return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
  }
}

/** The signature KMS would return for `message` (a digest when `isDigest`). */
function signWith(key: FakeKey, algorithmName: string, message: Buffer, isDigest: boolean): Buffer {
  const a = algorithm(algorithmName);
  if (!a) throw new KmsFailure('ValidationException', `Unknown SigningAlgorithm ${algorithmName}`);
  const digest = isDigest ? message : createHash(a.hash).update(message).digest();
  if (digest.length !== HASH_BYTES[a.hash]) {
    throw new KmsFailure(
      'ValidationException',
      `Digest is invalid length for algorithm ${algorithmName}.`,
    );
  }
  switch (a.scheme) {
    case 'pkcs1':
      return pkcs1Sign(key.privateKey, a.hash, digest);
    case 'pss':
      return pssSign(key.privateKey, a.hash, digest);
    case 'ecdsa':
      return ecdsaSign(key.privateKey, key.spec as keyof typeof CURVES, digest);
  }
}

function generate(spec: FakeKmsKeySpec): KeyObject {
  switch (spec) {
    case 'RSA_2048':
    case 'RSA_3072':
    case 'RSA_4096':
      return generateKeyPairSync('rsa', { modulusLength: Number(spec.slice(4)) }).privateKey;
    case 'ECC_NIST_P256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'ECC_NIST_P384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
  }
}

// ---------------------------------------------------------------------------------------
// SigV4 (plugins/ses/fake-sigv4.ts) for the service `kms`, with KMS's own error names.

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/;

/** What is wrong with the request's credentials or signature, as KMS would say it. */
function signatureProblem(
  req: IncomingMessage,
  body: Buffer,
  key: FakeKmsCredentials,
): KmsErrorAnswer | undefined {
  const invalid = (why: string): KmsErrorAnswer => ({
    status: 400,
    type: 'InvalidSignatureException',
    message: `The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. (${why})`,
  });
  const m = AUTH.exec(String(req.headers.authorization ?? ''));
  if (!m) {
    return {
      status: 400,
      type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    };
  }
  const [, keyId, date, region, service, signedHeaders, signature] = m;
  const token = req.headers['x-amz-security-token'];
  if (keyId !== key.accessKeyId || (key.sessionToken !== undefined && token !== key.sessionToken)) {
    return {
      status: 400,
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  }
  if (service !== 'kms') return invalid(`credential scope is for ${service}, not kms`);
  if (region !== key.region) return invalid(`credential scope is for ${region}, not ${key.region}`);
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date)) return invalid('x-amz-date does not match the credential scope');
  const at = Date.parse(
    amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  if (!Number.isFinite(at) || Math.abs(Date.now() - at) > 15 * 60_000) {
    return invalid('Signature expired');
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return invalid('host not signed');
  if (token !== undefined && !names.includes('x-amz-security-token')) {
    return invalid('x-amz-security-token not signed');
  }
  const expected = expectedSigV4(req, body, {
    secretAccessKey: key.secretAccessKey,
    date,
    region,
    service: 'kms',
    signedHeaders,
    amzDate,
  });
  return expected === signature ? undefined : invalid('signature mismatch');
}

// ---------------------------------------------------------------------------------------

const TARGET_PREFIX = 'TrentService.';

export class FakeKms {
  /** Added before every answer (benchmarks: a KMS round trip); 0 by default. */
  latencyMs = 0;
  /** Every request received, in order (also the ones refused). */
  readonly requests: FakeKmsRequest[] = [];
  /** Errors answered in turn, one per request, before any normal answer. */
  private readonly script: ScriptedError[] = [];
  private readonly keys = new Map<string, FakeKey>();
  private readonly server = createServer((req, res) => this.handle(req, res));
  private readonly accountId: string;

  constructor(private readonly credentials: FakeKmsCredentials) {
    this.accountId = credentials.accountId ?? '111122223333';
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** How many requests arrived for `target` (every target when omitted). */
  count(target?: FakeKmsTarget | string): number {
    return this.requests.filter((r) => target === undefined || r.target === target).length;
  }

  /** Requests by target: `{ Sign: 3, GetPublicKey: 1 }`. */
  get counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.requests) out[r.target] = (out[r.target] ?? 0) + 1;
    return out;
  }

  /** A key born in the fake; its id and ARN. */
  createKey(
    spec: FakeKmsKeySpec,
    usage: FakeKmsKeyUsage = 'SIGN_VERIFY',
    description = '',
  ): { keyId: string; arn: string } {
    const key = this.newKey(spec, usage, description);
    return { keyId: key.id, arn: key.arn };
  }

  disable(keyId: string): void {
    this.key(keyId).state = 'Disabled';
  }

  enable(keyId: string): void {
    this.key(keyId).state = 'Enabled';
  }

  /** ScheduleKeyDeletion: the key is PendingDeletion (KMSInvalidStateException on use). */
  scheduleDeletion(keyId: string, days = 30): void {
    const key = this.key(keyId);
    key.state = 'PendingDeletion';
    key.deletionDate = new Date(Date.now() + days * 86_400_000);
  }

  /** The next `n` requests are answered ThrottlingException (400), as KMS over its quota. */
  throttleNext(n = 1): void {
    for (let i = 0; i < n; i++) {
      this.script.push({ status: 400, type: 'ThrottlingException', message: 'Rate exceeded' });
    }
  }

  /**
   * The next `n` requests (of `target` only, when given) are answered with this error, after
   * any error already scripted for them.
   */
  failNext(type: string, message: string, status = 400, n = 1, target?: FakeKmsTarget): void {
    for (let i = 0; i < n; i++) this.script.push({ status, type, message, target });
  }

  private newKey(spec: FakeKmsKeySpec, usage: FakeKmsKeyUsage, description: string): FakeKey {
    const id = randomUUID();
    const privateKey = generate(spec);
    const key: FakeKey = {
      id,
      arn: `arn:aws:kms:${this.credentials.region}:${this.accountId}:key/${id}`,
      spec,
      usage,
      description,
      state: 'Enabled',
      created: new Date(),
      privateKey,
      spki: createPublicKey(privateKey).export({ format: 'der', type: 'spki' }),
    };
    this.keys.set(id, key);
    return key;
  }

  /** A key by id or key ARN, as tests name it. */
  private key(keyId: string): FakeKey {
    const key = this.find(keyId);
    if (!key) throw new Error(`fake KMS has no key ${keyId}`);
    return key;
  }

  private find(keyId: string): FakeKey | undefined {
    const prefix = `arn:aws:kms:${this.credentials.region}:${this.accountId}:key/`;
    return this.keys.get(keyId.startsWith(prefix) ? keyId.slice(prefix.length) : keyId);
  }

  /** The key a request names (KeyId: key id, key ARN; aliases are not emulated). */
  private requestedKey(body: Record<string, unknown>): FakeKey {
    const keyId = body.KeyId;
    if (typeof keyId !== 'string' || keyId.length < 1 || keyId.length > 2048) {
      throw new KmsFailure(
        'ValidationException',
        "1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length between 1 and 2048",
      );
    }
    const key = this.find(keyId);
    if (key) return key;
    if (keyId.startsWith('alias/') || keyId.includes(':alias/')) {
      const alias = keyId.startsWith('alias/')
        ? `arn:aws:kms:${this.credentials.region}:${this.accountId}:${keyId}`
        : keyId;
      throw new KmsFailure('NotFoundException', `Alias ${alias} is not found.`);
    }
    if (keyId.startsWith('arn:') && !/^arn:aws[\w-]*:kms:[\w-]+:\d{12}:key\/.+$/.test(keyId)) {
      throw new KmsFailure('InvalidArnException', `Invalid arn ${keyId}`);
    }
    const arn = keyId.startsWith('arn:')
      ? keyId
      : `arn:aws:kms:${this.credentials.region}:${this.accountId}:key/${keyId}`;
    throw new KmsFailure('NotFoundException', `Key '${arn}' does not exist`);
  }

  /** A key that may be used now: DisabledException, KMSInvalidStateException otherwise. */
  private usableKey(body: Record<string, unknown>): FakeKey {
    const key = this.requestedKey(body);
    if (key.state === 'Disabled') {
      throw new KmsFailure('DisabledException', `${key.arn} is disabled.`);
    }
    if (key.state === 'PendingDeletion') {
      throw new KmsFailure('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    }
    return key;
  }

  private metadata(key: FakeKey): Record<string, unknown> {
    return {
      AWSAccountId: this.accountId,
      KeyId: key.id,
      Arn: key.arn,
      CreationDate: key.created.getTime() / 1000,
      Enabled: key.state === 'Enabled',
      Description: key.description,
      KeyUsage: key.usage,
      KeyState: key.state,
      ...(key.deletionDate ? { DeletionDate: key.deletionDate.getTime() / 1000 } : {}),
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: key.spec,
      KeySpec: key.spec,
      ...(key.usage === 'SIGN_VERIFY'
        ? { SigningAlgorithms: SIGNING_ALGORITHMS[key.spec] }
        : { EncryptionAlgorithms: RSA_ENCRYPTION }),
      MultiRegion: false,
    };
  }

  private operation(target: string, body: Record<string, unknown>): Record<string, unknown> {
    switch (target) {
      case 'DescribeKey':
        // DescribeKey answers for disabled and pending-deletion keys too.
        return { KeyMetadata: this.metadata(this.requestedKey(body)) };
      case 'GetPublicKey': {
        const key = this.usableKey(body);
        return {
          KeyId: key.arn,
          PublicKey: key.spki.toString('base64'),
          CustomerMasterKeySpec: key.spec,
          KeySpec: key.spec,
          KeyUsage: key.usage,
          ...(key.usage === 'SIGN_VERIFY'
            ? { SigningAlgorithms: SIGNING_ALGORITHMS[key.spec] }
            : { EncryptionAlgorithms: RSA_ENCRYPTION }),
        };
      }
      case 'Sign':
        return this.sign(body);
      case 'CreateKey': {
        const spec = body.KeySpec ?? body.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
        const usage = body.KeyUsage ?? 'ENCRYPT_DECRYPT';
        if (!(FAKE_KMS_KEY_SPECS as readonly unknown[]).includes(spec)) {
          throw new KmsFailure('ValidationException', `KeySpec ${String(spec)} is not emulated.`);
        }
        if (usage !== 'SIGN_VERIFY' && !(usage === 'ENCRYPT_DECRYPT' && /^RSA/.test(`${spec}`))) {
          throw new KmsFailure(
            'ValidationException',
            `KeyUsage ${String(usage)} is not compatible with KeySpec ${String(spec)}`,
          );
        }
        const description = typeof body.Description === 'string' ? body.Description : '';
        const key = this.newKey(spec as FakeKmsKeySpec, usage as FakeKmsKeyUsage, description);
        return { KeyMetadata: this.metadata(key) };
      }
      default:
        throw new KmsFailure('UnknownOperationException', '');
    }
  }

  private sign(body: Record<string, unknown>): Record<string, unknown> {
    const key = this.usableKey(body);
    const algorithmName = String(body.SigningAlgorithm ?? '');
    if (key.usage !== 'SIGN_VERIFY') {
      throw new KmsFailure(
        'InvalidKeyUsageException',
        `You cannot perform this operation on a key with usage ${key.usage}: ${key.arn}`,
      );
    }
    if (!SIGNING_ALGORITHMS[key.spec].includes(algorithmName)) {
      throw new KmsFailure(
        'InvalidKeyUsageException',
        `Signing algorithm ${algorithmName} is not compatible with the KeySpec ${key.spec} of ${key.arn}.`,
      );
    }
    const message = Buffer.from(typeof body.Message === 'string' ? body.Message : '', 'base64');
    if (message.length < 1 || message.length > 4096) {
      throw new KmsFailure(
        'ValidationException',
        "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length between 1 and 4096",
      );
    }
    const messageType = body.MessageType ?? 'RAW';
    if (messageType !== 'RAW' && messageType !== 'DIGEST') {
      throw new KmsFailure('ValidationException', `MessageType ${String(messageType)}`);
    }
    const signature = signWith(key, algorithmName, message, messageType === 'DIGEST');
    return {
      KeyId: key.arn,
      Signature: signature.toString('base64'),
      SigningAlgorithm: algorithmName,
    };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bytes = Buffer.concat(chunks);
      const answer = (): void => this.answer(req, res, bytes);
      if (this.latencyMs > 0) setTimeout(answer, this.latencyMs);
      else answer();
    });
  }

  private answer(req: IncomingMessage, res: ServerResponse, bytes: Buffer): void {
    const header = String(req.headers['x-amz-target'] ?? '');
    const target = header.startsWith(TARGET_PREFIX) ? header.slice(TARGET_PREFIX.length) : header;
    let body: Record<string, unknown> = {};
    let parsed = true;
    try {
      const value: unknown = bytes.length ? JSON.parse(bytes.toString('utf8')) : {};
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        body = value as Record<string, unknown>;
      } else parsed = false;
    } catch {
      parsed = false;
    }
    this.requests.push({ target, headers: req.headers, body });

    const next = this.script.findIndex((e) => e.target === undefined || e.target === target);
    if (next >= 0) return this.error(res, this.script.splice(next, 1)[0]);
    const problem = signatureProblem(req, bytes, this.credentials);
    if (problem) return this.error(res, problem);
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const contentType = String(req.headers['content-type'] ?? '');
    if (
      req.method !== 'POST' ||
      path !== '/' ||
      !header.startsWith(TARGET_PREFIX) ||
      contentType.split(';')[0].trim() !== 'application/x-amz-json-1.1'
    ) {
      return this.error(res, { status: 404, type: 'UnknownOperationException', message: '' });
    }
    if (!parsed) {
      return this.error(res, { status: 400, type: 'SerializationException', message: '' });
    }
    try {
      this.json(res, 200, this.operation(target, body));
    } catch (e) {
      if (!(e instanceof KmsFailure)) throw e;
      this.error(res, { status: e.status, type: e.type, message: e.message });
    }
  }

  private json(res: ServerResponse, status: number, body: object, type?: string): void {
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      ...(type
        ? { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.kms/` }
        : {}),
    });
    res.end(JSON.stringify(body));
  }

  private error(res: ServerResponse, e: KmsErrorAnswer): void {
    const body = e.message ? { __type: e.type, message: e.message } : { __type: e.type };
    this.json(res, e.status, body, e.type);
  }
}

export const startFakeKms = (credentials: FakeKmsCredentials): Promise<FakeKms> =>
  new FakeKms(credentials).start();
