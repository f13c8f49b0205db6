/**
 * The `aws-kms` custody: the private key is an asymmetric AWS KMS key, and it never leaves
 * KMS. The relay hashes the signed attributes here and asks KMS to sign the digest (Sign with
 * MessageType DIGEST), so only 32 to 64 bytes travel per signature, whatever the message.
 *
 *   - describe(): GetPublicKey, to check a key the operator names (a signing key of a spec the
 *     S/MIME engine can use) and to get its public key for the certificate;
 *   - signer(): a KeySigner over Sign;
 *   - createKey(): CreateKey then GetPublicKey, for keys born in the relay.
 *
 * Connections go through the egress policy, like the SES transport's: the SDK gets keep-alive
 * agents whose DNS lookup refuses what the policy refuses, and an operator-set endpoint (a VPC
 * endpoint, a proxy) is checked before any request. KMS failures become CustodyErrors; their
 * messages never carry the secret access key or the session token.
 */
import {
  CreateKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  SignCommand,
  type GetPublicKeyCommandOutput,
  type SigningAlgorithmSpec,
} from '@aws-sdk/client-kms';
import { createHash, createPublicKey } from 'node:crypto';
import type { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Destination, EgressPolicy } from '../egress/egress-policy';
import { guardedAgent } from '../egress/guarded-request';
import type { HashName, SignatureScheme } from '../smime/algorithms';
import { CustodyError, type CustodyErrorCode, type KeySigner } from './custody';

export interface AwsKmsSettings {
  /** The region the key is in, e.g. `eu-west-1` (a key ARN names it too; they must agree). */
  region: string;
  accessKeyId: string;
  /** Never shown, never put into a message. */
  secretAccessKey: string;
  /** With temporary credentials (STS); never shown either. */
  sessionToken?: string;
  /** Another endpoint than KMS's public one: a VPC endpoint, a proxy or a test fake. */
  endpoint?: string;
}

/** The key specs the S/MIME engine signs with (RSA PKCS#1 v1.5 or PSS, ECDSA on P-256/P-384). */
export const KMS_KEY_SPECS = [
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'ECC_NIST_P256',
  'ECC_NIST_P384',
] as const;
export type KmsKeySpec = (typeof KMS_KEY_SPECS)[number];

/** The names keys born in the relay are asked for with. */
export type KmsNewKeySpec = 'RSA-2048' | 'RSA-3072' | 'RSA-4096' | 'P-256' | 'P-384';

const NEW_KEY_SPEC: Record<KmsNewKeySpec, KmsKeySpec> = {
  'RSA-2048': 'RSA_2048',
  'RSA-3072': 'RSA_3072',
  'RSA-4096': 'RSA_4096',
  'P-256': 'ECC_NIST_P256',
  'P-384': 'ECC_NIST_P384',
};

export interface KmsKeyDescription {
  /** The key ARN, as KMS returns it (whatever form of id it was asked with). */
  keyId: string;
  keySpec: KmsKeySpec;
  keyUsage: 'SIGN_VERIFY';
  /** What KMS will sign with this key (e.g. ECDSA_SHA_256). */
  signingAlgorithms: string[];
  /** The public key, DER SubjectPublicKeyInfo. */
  spki: Buffer;
}

export interface AwsKmsOptions {
  /** Per HTTP attempt, for connecting and for the answer; default 10 s. */
  timeoutMs?: number;
  /** The SDK's own attempts per call (its `standard` retry mode); default 3. */
  maxAttempts?: number;
}

/**
 * The egress destination of KMS connections. The policy has no `kms` destination (yet), so
 * KMS counts as a provider API: an operator who opens private addresses to provider APIs
 * (PROVIDER_API_ALLOW_PRIVATE) opens them to KMS too, which a VPC endpoint with private DNS
 * needs, since then even kms.<region>.amazonaws.com resolves to private addresses.
 */
const DESTINATION: Destination = 'provider-api';

/** The SigningAlgorithm for a hash and scheme on a key spec, or why there is none. */
function signingAlgorithm(
  keySpec: string,
  hash: HashName,
  scheme: SignatureScheme,
): { algorithm: SigningAlgorithmSpec } | { refused: string } {
  const bits = hash.slice(3) as '256' | '384' | '512';
  const mismatch = { refused: `an ${keySpec} key does not sign ${scheme}` };
  switch (keySpec) {
    case 'RSA_2048':
    case 'RSA_3072':
    case 'RSA_4096':
      if (scheme === 'rsa-pkcs1') return { algorithm: `RSASSA_PKCS1_V1_5_SHA_${bits}` };
      if (scheme === 'rsa-pss') return { algorithm: `RSASSA_PSS_SHA_${bits}` };
      return mismatch;
    // KMS ties each curve to one hash: ECDSA_SHA_256 on P-256, ECDSA_SHA_384 on P-384.
    case 'ECC_NIST_P256':
    case 'ECC_NIST_P384': {
      if (scheme !== 'ecdsa') return mismatch;
      const curveHash = keySpec === 'ECC_NIST_P256' ? 'sha256' : 'sha384';
      if (hash !== curveHash) {
        return { refused: `KMS signs with an ${keySpec} key only with ${curveHash}` };
      }
      return { algorithm: `ECDSA_SHA_${bits}` as SigningAlgorithmSpec };
    }
    default:
      return { refused: `key spec ${keySpec} is not one the relay signs with` };
  }
}

// ---------------------------------------------------------------------------------------
// KMS errors as CustodyErrors.
//
// The names are the `__type` of KMS's JSON answers, which the SDK puts in `name`: KMS's
// modelled exceptions, and the errors every AWS JSON service may answer (credentials,
// throttling, validation). Network failures have no HTTP status at all.

/** Try again later: quota, KMS's own trouble, a key store that is briefly unavailable. */
const UNAVAILABLE = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  // KMS: "a length constraint or quota was exceeded": the request rate quotas of Sign and
  // GetPublicKey free up; for CreateKey it may be the number of keys, which does not.
  'LimitExceededException',
  'KMSInternalException',
  'DependencyTimeoutException',
  // "The specified KMS key was not available. You can retry the request." (custom key stores)
  'KeyUnavailableException',
  'ServiceUnavailableException',
  'InternalFailure',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** The key exists but may not sign now (disabled, pending deletion or import, …). */
const DISABLED = new Set(['DisabledException', 'KMSInvalidStateException']);

/**
 * The credentials themselves were refused: an unknown access key id or a bad session token
 * (UnrecognizedClientException), a signature made with another secret
 * (InvalidSignatureException), expired temporary credentials (ExpiredTokenException). The
 * ones without the `Exception` suffix are the same errors as the query protocols name them.
 * IncorrectKeyException does not belong here: KMS answers it only to Decrypt and ReEncrypt
 * (a ciphertext of another key), never to the calls this custody makes.
 */
const AUTH = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'IncompleteSignatureException',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'AuthFailure',
  'RequestExpired',
]);

/** No such key: a key id, ARN or alias KMS does not know, an ARN that is not one. */
const NOT_FOUND = new Set(['NotFoundException', 'InvalidArnException']);

/** The key cannot sign this way: an encryption key, an algorithm it does not have. */
const UNUSABLE = new Set(['InvalidKeyUsageException', 'UnsupportedOperationException']);

/** A ValidationException about the key or algorithm, not about the request's form. */
const ALGORITHM_PROBLEM = /algorithm|key ?spec|key ?usage/i;

/** What the SDK's errors carry (a ServiceException, or a Node error from the HTTP handler). */
interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

/** The calls this custody makes, for error verdicts and messages. */
export type KmsOperation = 'describe' | 'sign' | 'createKey';

function codeFor(name: string, status: number | undefined, message: string, op: KmsOperation) {
  if (status === undefined) return 'custody_unavailable'; // no answer: network, DNS, timeout
  if (UNAVAILABLE.has(name) || status === 429 || status >= 500) return 'custody_unavailable';
  if (DISABLED.has(name)) return 'custody_key_disabled';
  if (AUTH.has(name)) return 'custody_auth_failed';
  // AccessDeniedException comes once the credentials were accepted (else KMS would have said
  // UnrecognizedClient or InvalidSignature): this principal may not use this key. KMS also
  // answers it, rather than NotFound, for a key ARN of an account it will not tell about,
  // so for a key it means "no such key, or no access to it", which is what
  // custody_key_not_found says. With no key yet (CreateKey), it is the credentials that may
  // not do this: custody_auth_failed.
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return op === 'createKey' ? 'custody_auth_failed' : 'custody_key_not_found';
  }
  if (NOT_FOUND.has(name)) return 'custody_key_not_found';
  if (UNUSABLE.has(name)) return 'custody_key_unusable';
  if (name === 'ValidationException' && ALGORITHM_PROBLEM.test(message)) {
    return 'custody_key_unusable';
  }
  return 'custody_failed';
}

/** What was being done, for the message. */
function act(op: KmsOperation, keyId: string): string {
  switch (op) {
    case 'describe':
      return `read the public key of key ${keyId}`;
    case 'sign':
      return `sign with key ${keyId}`;
    case 'createKey':
      return 'create a key';
  }
}

/**
 * An SDK failure as a CustodyError: one sentence with KMS's error name and message. The
 * secret access key and the session token are cut out of anything quoted, in case an
 * endpoint (a proxy) echoes a request header back.
 */
export function kmsCustodyError(
  e: unknown,
  op: KmsOperation,
  keyId: string,
  secrets: readonly (string | undefined)[],
): CustodyError {
  if (e instanceof CustodyError) return e;
  const err = (e ?? {}) as SdkError;
  const name = typeof err.name === 'string' && err.name ? err.name : 'Error';
  let message = typeof err.message === 'string' ? err.message : String(e);
  for (const secret of secrets) if (secret) message = message.split(secret).join('[redacted]');
  message = message.replace(/\s+/g, ' ').trim().replace(/\.$/, '').slice(0, 300);
  const status = err.$metadata?.httpStatusCode;
  const code: CustodyErrorCode = codeFor(name, status, message, op);
  const quoted = `${name}${err.code ? ` ${err.code}` : ''}${message ? `: ${message}` : ''}`;
  const text =
    status === undefined
      ? `AWS KMS could not be reached to ${act(op, keyId)} (${quoted}).`
      : `AWS KMS could not ${act(op, keyId)}: ${quoted} (HTTP ${status}).`;
  return new CustodyError(code, text, { cause: e });
}

// ---------------------------------------------------------------------------------------

/** How long to wait for a key KMS just created to be visible (eventual consistency). */
const NEW_KEY_WAITS_MS = [200, 400, 800, 1600];

export class AwsKmsKeys {
  /**
   * One client per distinct settings and attempt count (CreateKey gets its own, with one
   * attempt); the map key is a hash, so the secrets are not kept as map keys.
   */
  private readonly clients = new Map<string, KMSClient>();
  /** Keep-alive agents whose lookups go through the egress guard; shared by the clients. */
  private readonly agents: { httpAgent: Agent; httpsAgent: Agent };
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly egress: EgressPolicy,
    options: AwsKmsOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    const o = egress.options(DESTINATION);
    this.agents = { httpAgent: guardedAgent(o, false), httpsAgent: guardedAgent(o, true) };
  }

  private client(s: AwsKmsSettings, maxAttempts: number): KMSClient {
    const key = createHash('sha256')
      .update(
        JSON.stringify([
          s.region,
          s.endpoint ?? '',
          s.accessKeyId,
          s.secretAccessKey,
          s.sessionToken ?? '',
          maxAttempts,
        ]),
      )
      .digest('hex');
    let client = this.clients.get(key);
    if (!client) {
      client = new KMSClient({
        region: s.region,
        endpoint: s.endpoint,
        // Static keys: the SDK never looks for credentials elsewhere (environment, IMDS).
        credentials: {
          accessKeyId: s.accessKeyId,
          secretAccessKey: s.secretAccessKey,
          ...(s.sessionToken ? { sessionToken: s.sessionToken } : {}),
        },
        // A few quick attempts by the SDK (standard mode: exponential backoff with jitter,
        // for throttling, 5xx, timeouts and dropped connections); a CustodyError marked
        // transient then sends the message back to the relay's queue, which retries later.
        maxAttempts,
        retryMode: 'standard',
        // Not `auto`, which may ask the instance metadata service where it runs.
        defaultsMode: 'legacy',
        // Not from the environment: an endpoint is the operator's to set (a FIPS endpoint
        // such as https://kms-fips.us-east-1.amazonaws.com included).
        useFipsEndpoint: false,
        useDualstackEndpoint: false,
        // Every connection through the egress guard; each attempt bounded in time.
        requestHandler: {
          ...this.agents,
          connectionTimeout: this.timeoutMs,
          requestTimeout: this.timeoutMs,
          throwOnRequestTimeout: true,
        },
      });
      this.clients.set(key, client);
    }
    return client;
  }

  /** Runs one KMS call (with the SDK's attempts) under an overall deadline; errors classified. */
  private async call<T>(
    s: AwsKmsSettings,
    op: KmsOperation,
    keyId: string,
    run: (client: KMSClient, abortSignal: AbortSignal) => Promise<T>,
    maxAttempts = this.maxAttempts,
  ): Promise<T> {
    if (s.endpoint) {
      try {
        this.egress.checkUrlWithoutDns(DESTINATION, s.endpoint); // an IP literal skips DNS
      } catch (e) {
        throw refused(e);
      }
    }
    // Each attempt has its own timeouts; this bounds the whole, backoff included.
    const deadline = this.timeoutMs * maxAttempts + 2_000;
    const signal = AbortSignal.timeout(deadline);
    try {
      return await run(this.client(s, maxAttempts), signal);
    } catch (e) {
      if (signal.aborted) {
        const message = `AWS KMS did not answer within ${deadline} ms.`;
        throw new CustodyError('custody_unavailable', message, { cause: e });
      }
      const name = (e as Error)?.name;
      if (name === 'EgressUnresolved') {
        // The host does not resolve now: a DNS failure, worth another try later.
        const message = `AWS KMS could not be reached: ${(e as Error).message}.`;
        throw new CustodyError('custody_unavailable', message, { cause: e });
      }
      if (name === 'EgressRefused') throw refused(e);
      throw kmsCustodyError(e, op, keyId, [s.secretAccessKey, s.sessionToken]);
    }
  }

  /** GetPublicKey: the key's ARN, spec, usage, algorithms and public key, if it can sign. */
  async describe(s: AwsKmsSettings, keyId: string): Promise<KmsKeyDescription> {
    const out = await this.call(s, 'describe', keyId, (client, abortSignal) =>
      client.send(new GetPublicKeyCommand({ KeyId: keyId }), { abortSignal }),
    );
    return describeAnswer(out, keyId);
  }

  /**
   * A KeySigner over Sign: `data` is hashed here and KMS signs the digest. A hash, scheme and
   * key spec that do not go together are refused before any request.
   */
  signer(s: AwsKmsSettings, keyId: string, keySpec: KmsKeySpec): KeySigner {
    return {
      sign: async (hash: HashName, scheme: SignatureScheme, data: Buffer): Promise<Buffer> => {
        const choice = signingAlgorithm(keySpec, hash, scheme);
        if ('refused' in choice) {
          throw new CustodyError(
            'custody_key_unusable',
            `AWS KMS key ${keyId} cannot sign this way: ${choice.refused}.`,
          );
        }
        const digest = createHash(hash).update(data).digest();
        const out = await this.call(s, 'sign', keyId, (client, abortSignal) =>
          client.send(
            new SignCommand({
              KeyId: keyId,
              Message: digest,
              MessageType: 'DIGEST',
              SigningAlgorithm: choice.algorithm,
            }),
            { abortSignal },
          ),
        );
        if (!out.Signature || out.Signature.length === 0) {
          throw new CustodyError(
            'custody_failed',
            `AWS KMS answered Sign for key ${keyId} without a signature.`,
          );
        }
        // RSA: the signature's bytes; ECDSA: already a DER ECDSA-Sig-Value, as CMS wants it.
        return Buffer.from(out.Signature);
      },
    };
  }

  /**
   * CreateKey (KeyUsage SIGN_VERIFY) then GetPublicKey: the new key's ARN and public key.
   * CreateKey is not idempotent, so the SDK makes one attempt only: a retry after a lost
   * answer would leave a second key (billed monthly) that nobody knows of.
   */
  async createKey(
    s: AwsKmsSettings,
    spec: KmsNewKeySpec,
    description: string,
  ): Promise<{ keyId: string; spki: Buffer }> {
    const keySpec = NEW_KEY_SPEC[spec];
    if (!keySpec) {
      throw new CustodyError('custody_key_unusable', `AWS KMS keys of spec ${spec} are not made.`);
    }
    const created = await this.call(
      s,
      'createKey',
      '',
      (client, abortSignal) =>
        client.send(
          new CreateKeyCommand({
            KeyUsage: 'SIGN_VERIFY',
            KeySpec: keySpec,
            Description: description,
          }),
          { abortSignal },
        ),
      1,
    );
    const arn = created.KeyMetadata?.Arn ?? created.KeyMetadata?.KeyId;
    if (!arn) {
      throw new CustodyError('custody_failed', 'AWS KMS answered CreateKey without a key id.');
    }
    // KMS is eventually consistent: a key just created may be NotFound for a moment.
    for (let attempt = 0; ; attempt++) {
      try {
        const key = await this.describe(s, arn);
        return { keyId: key.keyId, spki: key.spki };
      } catch (e) {
        const wait = NEW_KEY_WAITS_MS[attempt];
        if (!(e instanceof CustodyError) || e.code !== 'custody_key_not_found' || !wait) throw e;
        await sleep(wait);
      }
    }
  }

  async close(): Promise<void> {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
    this.agents.httpAgent.destroy();
    this.agents.httpsAgent.destroy();
  }
}

function refused(e: unknown): CustodyError {
  return new CustodyError(
    'custody_failed',
    `AWS KMS endpoint refused by the egress policy: ${(e as Error).message}`,
    { cause: e, transient: false },
  );
}

/** GetPublicKey's answer, checked: a signing key of a spec the relay signs with. */
function describeAnswer(out: GetPublicKeyCommandOutput, asked: string): KmsKeyDescription {
  const keyId = out.KeyId ?? asked;
  const keySpec = out.KeySpec ?? out.CustomerMasterKeySpec ?? 'unknown';
  const keyUsage = out.KeyUsage ?? 'unknown';
  if (keyUsage !== 'SIGN_VERIFY') {
    throw new CustodyError(
      'custody_key_unusable',
      `AWS KMS key ${keyId} is not a signing key (KeyUsage ${keyUsage}, not SIGN_VERIFY).`,
    );
  }
  if (!(KMS_KEY_SPECS as readonly string[]).includes(keySpec)) {
    throw new CustodyError(
      'custody_key_unusable',
      `AWS KMS key ${keyId} has KeySpec ${keySpec}; the relay signs with ${KMS_KEY_SPECS.join(', ')}.`,
    );
  }
  const spki = out.PublicKey ? Buffer.from(out.PublicKey) : Buffer.alloc(0);
  try {
    createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (e) {
    throw new CustodyError(
      'custody_failed',
      `AWS KMS answered GetPublicKey for key ${keyId} without a usable public key.`,
      { cause: e },
    );
  }
  return {
    keyId,
    keySpec: keySpec as KmsKeySpec,
    keyUsage,
    signingAlgorithms: [...(out.SigningAlgorithms ?? [])],
    spki,
  };
}
