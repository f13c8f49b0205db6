/**
 * The aws-kms custody against the loopback KMS fake (test/helpers/fake-kms.ts), with the real
 * SDK client: every key spec and scheme signs, and each signature verifies with node:crypto
 * over the original data; KMS's errors become the right CustodyErrors.
 */
import assert from 'node:assert/strict';
import { constants, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { EgressPolicy } from '../egress/egress-policy';
import type { HashName, SignatureScheme } from '../smime/algorithms';
import { loopbackEgress } from '../../test/helpers/egress';
import { FakeKms, startFakeKms, type FakeKmsKeySpec } from '../../test/helpers/fake-kms';
import { AwsKmsKeys, type AwsKmsSettings, type KmsKeySpec } from './aws-kms';
import { CustodyError } from './custody';

const CREDENTIALS = {
  region: 'eu-west-1',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
/** Stands for the DER of a message's signed attributes. */
const DATA = Buffer.from('content-type, signing-time, message-digest, smimeCapabilities');

let kms: FakeKms;
const keys = new AwsKmsKeys(loopbackEgress());
/** No SDK retries: one scripted error, one answer. */
const once = new AwsKmsKeys(loopbackEgress(), { maxAttempts: 1 });

const settings = (overrides: Partial<AwsKmsSettings> = {}): AwsKmsSettings => ({
  ...CREDENTIALS,
  endpoint: kms.endpoint,
  ...overrides,
});

/** The CustodyError that `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<CustodyError> {
  const e = await promise.then(
    () => assert.fail('expected a failure'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof CustodyError, String(e));
  return e;
}

/** Whether `signature` is the key's over `data` (not over its digest). */
function verifies(
  spki: Buffer,
  hash: HashName,
  scheme: SignatureScheme,
  data: Buffer,
  signature: Buffer,
): boolean {
  const key: KeyObject = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  if (scheme === 'rsa-pss') {
    const saltLength = createHash(hash).digest().length;
    return verify(
      hash,
      data,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength },
      signature,
    );
  }
  return verify(hash, data, key, signature);
}

before(async () => {
  kms = await startFakeKms(CREDENTIALS);
});

after(async () => {
  await keys.close();
  await once.close();
  await kms.stop();
});

const PAIRS: Record<FakeKmsKeySpec, [SignatureScheme, HashName, string][]> = {
  RSA_2048: [],
  RSA_3072: [],
  RSA_4096: [],
  ECC_NIST_P256: [['ecdsa', 'sha256', 'ECDSA_SHA_256']],
  ECC_NIST_P384: [['ecdsa', 'sha384', 'ECDSA_SHA_384']],
};
for (const spec of ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const) {
  for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
    const bits = hash.slice(3);
    PAIRS[spec].push(['rsa-pkcs1', hash, `RSASSA_PKCS1_V1_5_SHA_${bits}`]);
    PAIRS[spec].push(['rsa-pss', hash, `RSASSA_PSS_SHA_${bits}`]);
  }
}

describe('aws-kms custody: describe and sign', () => {
  for (const spec of Object.keys(PAIRS) as FakeKmsKeySpec[]) {
    test(`${spec}: describe, then every scheme and hash verifies over the data`, async () => {
      const { keyId, arn } = kms.createKey(spec);
      const key = await keys.describe(settings(), keyId);
      assert.equal(key.keyId, arn, 'describe answers the key ARN');
      assert.equal(key.keySpec, spec);
      assert.equal(key.keyUsage, 'SIGN_VERIFY');
      assert.deepEqual(
        key.signingAlgorithms,
        PAIRS[spec].map(([, , algorithm]) => algorithm).sort(),
      );
      const signer = keys.signer(settings(), keyId, key.keySpec);
      for (const [scheme, hash, algorithm] of PAIRS[spec]) {
        const before = kms.count('Sign');
        const signature = await signer.sign(hash, scheme, DATA);
        assert.equal(kms.count('Sign'), before + 1);
        const sent = kms.requests.at(-1)!.body;
        assert.equal(sent.MessageType, 'DIGEST');
        assert.equal(sent.SigningAlgorithm, algorithm);
        assert.equal(sent.KeyId, keyId);
        assert.equal(
          sent.Message,
          createHash(hash).update(DATA).digest('base64'),
          'only the digest travels',
        );
        assert.ok(
          verifies(key.spki, hash, scheme, DATA, signature),
          `${spec} ${scheme} ${hash} does not verify`,
        );
        if (scheme === 'ecdsa') assert.equal(signature[0], 0x30, 'a DER ECDSA-Sig-Value');
      }
    });
  }

  test('a key named by its ARN signs as well', async () => {
    const { arn } = kms.createKey('ECC_NIST_P256');
    const key = await keys.describe(settings(), arn);
    const signature = await keys
      .signer(settings(), arn, 'ECC_NIST_P256')
      .sign('sha256', 'ecdsa', DATA);
    assert.ok(verifies(key.spki, 'sha256', 'ecdsa', DATA, signature));
  });

  test('createKey: a new key that describes and signs', async () => {
    const before = kms.count('CreateKey');
    const created = await keys.createKey(settings(), 'P-384', 'S/MIME newsletters 2025');
    assert.equal(kms.count('CreateKey'), before + 1);
    assert.match(created.keyId, /^arn:aws:kms:eu-west-1:\d{12}:key\/[0-9a-f-]{36}$/);
    const sent = kms.requests.filter((r) => r.target === 'CreateKey').at(-1)!.body;
    assert.equal(sent.KeyUsage, 'SIGN_VERIFY');
    assert.equal(sent.KeySpec, 'ECC_NIST_P384');
    assert.equal(sent.Description, 'S/MIME newsletters 2025');
    const described = await keys.describe(settings(), created.keyId);
    assert.ok(described.spki.equals(created.spki));
    const signature = await keys
      .signer(settings(), created.keyId, described.keySpec)
      .sign('sha384', 'ecdsa', DATA);
    assert.ok(verifies(created.spki, 'sha384', 'ecdsa', DATA, signature));
  });

  test('createKey waits for a new key KMS does not show yet (eventual consistency)', async () => {
    const before = kms.counts;
    kms.failNext('NotFoundException', 'Key does not exist', 400, 2, 'GetPublicKey');
    const created = await keys.createKey(settings(), 'P-256', 'new');
    assert.equal(kms.count('CreateKey'), (before.CreateKey ?? 0) + 1);
    assert.equal(kms.count('GetPublicKey'), (before.GetPublicKey ?? 0) + 3);
    const signature = await keys
      .signer(settings(), created.keyId, 'ECC_NIST_P256')
      .sign('sha256', 'ecdsa', DATA);
    assert.ok(verifies(created.spki, 'sha256', 'ecdsa', DATA, signature));
  });

  test('createKey of an RSA key', async () => {
    const created = await keys.createKey(settings(), 'RSA-2048', 'rsa');
    const signer = keys.signer(settings(), created.keyId, 'RSA_2048');
    const signature = await signer.sign('sha256', 'rsa-pkcs1', DATA);
    assert.ok(verifies(created.spki, 'sha256', 'rsa-pkcs1', DATA, signature));
  });
});

describe('aws-kms custody: refusals before any request', () => {
  const cases: [KmsKeySpec, HashName, SignatureScheme][] = [
    ['ECC_NIST_P384', 'sha256', 'ecdsa'],
    ['ECC_NIST_P256', 'sha384', 'ecdsa'],
    ['ECC_NIST_P256', 'sha512', 'ecdsa'],
    ['ECC_NIST_P256', 'sha256', 'rsa-pkcs1'],
    ['RSA_2048', 'sha256', 'ecdsa'],
  ];
  for (const [spec, hash, scheme] of cases) {
    test(`${spec} with ${scheme} ${hash} is custody_key_unusable, KMS not asked`, async () => {
      const requests = kms.count();
      const signer = keys.signer(settings(), 'any-key', spec);
      const e = await failure(signer.sign(hash, scheme, DATA));
      assert.equal(e.code, 'custody_key_unusable');
      assert.equal(e.transient, false);
      assert.equal(kms.count(), requests);
    });
  }

  test('a key spec the relay does not sign with is refused', async () => {
    const signer = keys.signer(settings(), 'any-key', 'ECC_NIST_P521' as KmsKeySpec);
    const e = await failure(signer.sign('sha512', 'ecdsa', DATA));
    assert.equal(e.code, 'custody_key_unusable');
  });

  test('an endpoint the egress policy refuses: custody_failed, permanent, no request', async () => {
    const closed = new AwsKmsKeys(new EgressPolicy({}));
    try {
      const requests = kms.count();
      const e = await failure(closed.describe(settings(), 'any-key'));
      assert.equal(e.code, 'custody_failed');
      assert.equal(e.transient, false);
      assert.match(e.message, /egress policy/);
      assert.equal(kms.count(), requests);
      // A host name is checked where it resolves, in the connection's own lookup.
      const port = new URL(kms.endpoint).port;
      const named = await failure(
        closed.describe(settings({ endpoint: `http://localhost:${port}` }), 'any-key'),
      );
      assert.equal(named.code, 'custody_failed', named.message);
      assert.equal(named.transient, false);
      assert.equal(kms.count(), requests);
    } finally {
      await closed.close();
    }
  });
});

describe('aws-kms custody: KMS errors as CustodyErrors', () => {
  test('a wrong secret is custody_auth_failed, and the secret is not in the message', async () => {
    const secret = 'not-the-secret/xyzzyPLUGHplugh1234567890';
    const requests = kms.count();
    const e = await failure(keys.describe(settings({ secretAccessKey: secret }), 'any-key'));
    assert.equal(e.code, 'custody_auth_failed');
    assert.equal(e.transient, false);
    assert.match(e.message, /InvalidSignatureException/);
    assert.ok(!e.message.includes(secret), e.message);
    assert.ok(!e.message.includes(CREDENTIALS.secretAccessKey), e.message);
    assert.equal(kms.count(), requests + 1, 'the SDK does not retry a refused signature');
  });

  test('an unknown access key id is custody_auth_failed', async () => {
    const e = await failure(
      keys.describe(settings({ accessKeyId: 'AKIAI44QH8DHBEXAMPLE' }), 'any-key'),
    );
    assert.equal(e.code, 'custody_auth_failed');
    assert.match(e.message, /UnrecognizedClientException/);
  });

  test('an unknown key is custody_key_not_found', async () => {
    const e = await failure(keys.describe(settings(), '1234abcd-12ab-34cd-56ef-1234567890ab'));
    assert.equal(e.code, 'custody_key_not_found');
    assert.equal(e.transient, false);
    assert.match(e.message, /NotFoundException/);
    const alias = await failure(
      keys.signer(settings(), 'alias/nope', 'RSA_2048').sign('sha256', 'rsa-pkcs1', DATA),
    );
    assert.equal(alias.code, 'custody_key_not_found');
  });

  test('a disabled key is custody_key_disabled, at describe and at sign', async () => {
    const { keyId } = kms.createKey('ECC_NIST_P256');
    kms.disable(keyId);
    const d = await failure(keys.describe(settings(), keyId));
    assert.equal(d.code, 'custody_key_disabled');
    assert.match(d.message, /DisabledException/);
    const signer = keys.signer(settings(), keyId, 'ECC_NIST_P256');
    const s = await failure(signer.sign('sha256', 'ecdsa', DATA));
    assert.equal(s.code, 'custody_key_disabled');
    assert.equal(s.transient, false);
    kms.enable(keyId);
    assert.ok((await signer.sign('sha256', 'ecdsa', DATA)).length > 0);
  });

  test('a key pending deletion is custody_key_disabled', async () => {
    const { keyId } = kms.createKey('RSA_2048');
    kms.scheduleDeletion(keyId);
    const e = await failure(
      keys.signer(settings(), keyId, 'RSA_2048').sign('sha256', 'rsa-pss', DATA),
    );
    assert.equal(e.code, 'custody_key_disabled');
    assert.match(e.message, /KMSInvalidStateException/);
  });

  test('an encryption key is custody_key_unusable at describe, and at sign', async () => {
    const { keyId } = kms.createKey('RSA_2048', 'ENCRYPT_DECRYPT');
    const d = await failure(keys.describe(settings(), keyId));
    assert.equal(d.code, 'custody_key_unusable');
    assert.match(d.message, /ENCRYPT_DECRYPT/);
    const s = await failure(
      keys.signer(settings(), keyId, 'RSA_2048').sign('sha256', 'rsa-pkcs1', DATA),
    );
    assert.equal(s.code, 'custody_key_unusable');
    assert.match(s.message, /InvalidKeyUsageException/);
  });

  test('throttled on every attempt: custody_unavailable, transient, after 3 SDK attempts', async () => {
    const { keyId } = kms.createKey('ECC_NIST_P256');
    const signer = keys.signer(settings(), keyId, 'ECC_NIST_P256');
    const before = kms.count('Sign');
    kms.throttleNext(3);
    const e = await failure(signer.sign('sha256', 'ecdsa', DATA));
    assert.equal(e.code, 'custody_unavailable');
    assert.equal(e.transient, true);
    assert.match(e.message, /ThrottlingException/);
    assert.equal(kms.count('Sign'), before + 3, 'maxAttempts 3: three requests');
  });

  test('throttled twice: the third SDK attempt signs', async () => {
    const { keyId } = kms.createKey('ECC_NIST_P256');
    const key = await keys.describe(settings(), keyId);
    const before = kms.count('Sign');
    kms.throttleNext(2);
    const signature = await keys
      .signer(settings(), keyId, 'ECC_NIST_P256')
      .sign('sha256', 'ecdsa', DATA);
    assert.equal(kms.count('Sign'), before + 3);
    assert.ok(verifies(key.spki, 'sha256', 'ecdsa', DATA, signature));
  });

  const scripted: [string, number, string, string, boolean][] = [
    [
      'AccessDeniedException',
      400,
      'User is not authorized to perform kms:Sign',
      'custody_key_not_found',
      false,
    ],
    ['KMSInternalException', 500, 'internal error', 'custody_unavailable', true],
    ['DependencyTimeoutException', 503, 'timed out', 'custody_unavailable', true],
    ['KeyUnavailableException', 500, 'key store disconnected', 'custody_unavailable', true],
    ['LimitExceededException', 400, 'quota', 'custody_unavailable', true],
    [
      'ExpiredTokenException',
      400,
      'The security token included in the request is expired',
      'custody_auth_failed',
      false,
    ],
    [
      'ValidationException',
      400,
      'Digest is invalid length for algorithm ECDSA_SHA_256.',
      'custody_key_unusable',
      false,
    ],
    ['ValidationException', 400, 'Value at grantTokens failed', 'custody_failed', false],
    ['UnsupportedOperationException', 400, 'no', 'custody_key_unusable', false],
    ['SomethingNewException', 400, 'new', 'custody_failed', false],
  ];
  for (const [type, status, message, code, transient] of scripted) {
    test(`${type} (${message}) is ${code}`, async () => {
      const { keyId } = kms.createKey('ECC_NIST_P256');
      kms.failNext(type, message, status);
      const e = await failure(
        once.signer(settings(), keyId, 'ECC_NIST_P256').sign('sha256', 'ecdsa', DATA),
      );
      assert.equal(e.code, code, e.message);
      assert.equal(e.transient, transient);
      assert.ok(e.message.includes(type), e.message);
      assert.equal((e.cause as Error).name, type, 'the SDK names the error as KMS did');
    });
  }

  test('AccessDeniedException at CreateKey is custody_auth_failed', async () => {
    kms.failNext('AccessDeniedException', 'User is not authorized to perform kms:CreateKey');
    const e = await failure(keys.createKey(settings(), 'P-256', 'x'));
    assert.equal(e.code, 'custody_auth_failed');
  });

  test('CreateKey is tried once only (not idempotent)', async () => {
    const before = kms.count('CreateKey');
    kms.failNext('KMSInternalException', 'internal error', 500);
    const e = await failure(keys.createKey(settings(), 'P-256', 'x'));
    assert.equal(e.code, 'custody_unavailable');
    assert.equal(kms.count('CreateKey'), before + 1);
  });

  test('a session token: the right one works, a wrong one is refused and not quoted', async () => {
    const token = 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN0123456789';
    const sts = await startFakeKms({ ...CREDENTIALS, sessionToken: token });
    try {
      const { keyId } = sts.createKey('ECC_NIST_P256');
      const good = { ...CREDENTIALS, sessionToken: token, endpoint: sts.endpoint };
      assert.equal((await keys.describe(good, keyId)).keySpec, 'ECC_NIST_P256');
      const wrong = 'IQoJb3JpZ2luX2VjWRONGTOKEN9876543210';
      const e = await failure(keys.describe({ ...good, sessionToken: wrong }, keyId));
      assert.equal(e.code, 'custody_auth_failed');
      assert.ok(!e.message.includes(wrong) && !e.message.includes(token), e.message);
    } finally {
      await sts.stop();
    }
  });

  test('an endpoint that echoes the secret back: it is cut out of the message', async () => {
    kms.failNext('SomethingNewException', `bad key ${CREDENTIALS.secretAccessKey} here`);
    const e = await failure(once.describe(settings(), 'any-key'));
    assert.ok(!e.message.includes(CREDENTIALS.secretAccessKey), e.message);
    assert.match(e.message, /\[redacted\]/);
  });

  test('nothing listening: custody_unavailable, transient', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const e = await failure(
      keys.describe(settings({ endpoint: `http://127.0.0.1:${port}` }), 'any-key'),
    );
    assert.equal(e.code, 'custody_unavailable');
    assert.equal(e.transient, true);
    assert.match(e.message, /could not be reached/);
  });

  test('no answer within the time limit: custody_unavailable, transient', async () => {
    const slow = new AwsKmsKeys(loopbackEgress(), { timeoutMs: 200, maxAttempts: 1 });
    kms.latencyMs = 1_500;
    try {
      const e = await failure(slow.describe(settings(), 'any-key'));
      assert.equal(e.code, 'custody_unavailable');
      assert.equal(e.transient, true);
    } finally {
      kms.latencyMs = 0;
      await slow.close();
    }
  });
});
