/**
 * The pkcs11 custody against a real SoftHSM2 token (test/helpers/softhsm.ts): keys generated
 * on the token and imported into it sign with every scheme and hash the engine uses, and
 * node:crypto verifies each signature against the SubjectPublicKeyInfo the custody reports.
 * Without SoftHSM2 these tests fail (CI installs it): apt-get install softhsm2.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as pkcs11js from 'pkcs11js';
import {
  SOFTHSM_MISSING,
  softHsmAvailable,
  startSoftHsm,
  type SoftHsm,
} from '../../test/helpers/softhsm';
import { HASH_LENGTH, type HashName, type SignatureScheme } from '../smime/algorithms';
import { CustodyError } from './custody';
import {
  closeAllPkcs11,
  ecdsaRawToDer,
  generatePkcs11Key,
  openPkcs11Key,
  pkcs11CustodyError,
  pkcs11Module,
  type Pkcs11Key,
  type Pkcs11KeySpec,
  type Pkcs11Settings,
} from './pkcs11';

const TOKEN = 'relay-token';
const PIN = 'user-pin-4821';
/** A token nobody logs in to, so a wrong PIN meets the token's own check. */
const SPARE_TOKEN = 'spare-token';
const SPARE_PIN = 'spare-pin-5150';
const WRONG_PIN = 'wrong-pin-7391';

const SCHEMES: Record<'RSA' | 'EC', Array<[SignatureScheme, HashName]>> = {
  RSA: [
    ['rsa-pkcs1', 'sha256'],
    ['rsa-pkcs1', 'sha384'],
    ['rsa-pkcs1', 'sha512'],
    ['rsa-pss', 'sha256'],
    ['rsa-pss', 'sha384'],
    ['rsa-pss', 'sha512'],
  ],
  EC: [
    ['ecdsa', 'sha256'],
    ['ecdsa', 'sha384'],
    ['ecdsa', 'sha512'],
  ],
};

function verifies(
  spki: Buffer,
  hash: HashName,
  scheme: SignatureScheme,
  data: Buffer,
  signature: Buffer,
): boolean {
  const key = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const options =
    scheme === 'rsa-pss'
      ? { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LENGTH[hash] }
      : key; // PKCS#1 v1.5, and DER-encoded ECDSA
  return crypto.verify(hash, data, options, signature);
}

async function rejectsWith(
  promise: Promise<unknown>,
  code: CustodyError['code'],
  check?: (message: string) => void,
): Promise<CustodyError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof CustodyError, `expected a CustodyError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  check?.(caught.message);
  return caught;
}

const signedAttributes = (n: number) =>
  Buffer.from(`1\u0000signed attributes of message ${n} ${'x'.repeat(n % 97)}`);

describe('pkcs11 custody on a SoftHSM2 token', () => {
  let hsm: SoftHsm;
  const token = (): Pkcs11Settings => ({ module: hsm.module, tokenLabel: TOKEN, pin: PIN });
  const generated = new Map<Pkcs11KeySpec, { keyId: string; spki: Buffer }>();
  const importedRsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const importedEc = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
  let relaySlot: number;
  const opened: Pkcs11Key[] = [];
  const open = async (settings: Pkcs11Settings, sessions?: number) => {
    const key = await openPkcs11Key(settings, { sessions });
    opened.push(key);
    return key;
  };

  /** A session of this process on the relay token, logged in, for reading objects directly. */
  function rawSession(): { p11: pkcs11js.PKCS11; session: Buffer; slot: Buffer } {
    const p11 = pkcs11Module(hsm.module);
    const slot = p11
      .C_GetSlotList(true)
      .find((s) => p11.C_GetTokenInfo(s).label.trimEnd() === TOKEN) as Buffer;
    const session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      p11.C_Login(session, pkcs11js.CKU_USER, PIN);
    } catch (err) {
      if ((err as Error).message !== 'CKR_USER_ALREADY_LOGGED_IN') throw err;
    }
    return { p11, session, slot };
  }

  function privateKeyHandle(p11: pkcs11js.PKCS11, session: Buffer, idHex: string): Buffer {
    p11.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_ID, value: Buffer.from(idHex, 'hex') },
    ]);
    const [handle] = p11.C_FindObjects(session, 2);
    p11.C_FindObjectsFinal(session);
    assert.ok(handle, `private key ${idHex} on the token`);
    return handle;
  }

  before(async () => {
    if (!softHsmAvailable()) throw new Error(SOFTHSM_MISSING);
    hsm = await startSoftHsm();
    relaySlot = (await hsm.initToken(TOKEN, PIN)).slot;
    await hsm.initToken(SPARE_TOKEN, SPARE_PIN);
    for (const spec of ['RSA-2048', 'RSA-3072', 'P-256', 'P-384'] as const) {
      generated.set(spec, await generatePkcs11Key(token(), spec, `generated ${spec}`));
    }
    const pem = (k: crypto.KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();
    await hsm.importKey(TOKEN, PIN, pem(importedRsa.privateKey), 'imported rsa', 'a1b2c3');
    await hsm.importKey(TOKEN, PIN, pem(importedEc.privateKey), 'imported ec', 'd4e5f6');
  });

  after(async () => {
    await Promise.allSettled(opened.map((k) => k.close()));
    await hsm?.stop();
  });

  it('signs with keys generated on the token, for every scheme and hash, verifiably', async () => {
    for (const [spec, { keyId, spki }] of generated) {
      const key = await open({ ...token(), keyId });
      assert.deepEqual(key.publicKeySpki(), spki, `${spec}: the SPKI given at generation`);
      assert.equal(key.keyType, spec.startsWith('RSA') ? 'RSA' : 'EC');
      assert.equal(key.label, `generated ${spec}`);
      assert.equal(key.keyId, keyId);
      assert.equal(keyId.length, 32, 'a 16-byte CKA_ID');
      if (key.keyType === 'RSA') assert.equal(key.modulusBits, Number(spec.slice(4)));
      else assert.equal(key.curve, spec);
      const publicKey = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });
      const details = publicKey.asymmetricKeyDetails;
      if (key.keyType === 'RSA') assert.equal(details?.modulusLength, Number(spec.slice(4)));
      else assert.equal(details?.namedCurve, spec === 'P-256' ? 'prime256v1' : 'secp384r1');
      for (const [scheme, hash] of SCHEMES[key.keyType]) {
        const data = signedAttributes(hash.length + scheme.length);
        const signature = await key.sign(hash, scheme, data);
        assert.ok(verifies(spki, hash, scheme, data, signature), `${spec} ${scheme} ${hash}`);
        assert.ok(!verifies(spki, hash, scheme, Buffer.from('other'), signature));
      }
    }
  });

  it('signs with imported keys, found by label, with the public key they were imported with', async () => {
    for (const [label, pair] of [
      ['imported rsa', importedRsa],
      ['imported ec', importedEc],
    ] as const) {
      const key = await open({ ...token(), keyLabel: label });
      const expected = pair.publicKey.export({ type: 'spki', format: 'der' });
      assert.deepEqual(key.publicKeySpki(), expected, label);
      for (const [scheme, hash] of SCHEMES[key.keyType]) {
        const data = signedAttributes(7);
        const signature = await key.sign(hash, scheme, data);
        assert.ok(verifies(expected, hash, scheme, data, signature), `${label} ${scheme} ${hash}`);
      }
    }
  });

  it('finds the token by slot id and the key by label and id together', async () => {
    const key = await open({
      module: hsm.module,
      slot: relaySlot,
      pin: PIN,
      keyLabel: 'imported rsa',
      keyId: 'a1b2c3',
    });
    assert.equal(key.tokenLabel, TOKEN);
    const data = signedAttributes(1);
    const signature = await key.sign('sha256', 'rsa-pkcs1', data);
    assert.ok(verifies(key.publicKeySpki(), 'sha256', 'rsa-pkcs1', data, signature));
  });

  it('runs 50 signatures at once on a pool of 4 sessions, and every one verifies', async () => {
    for (const spec of ['RSA-2048', 'P-256'] as const) {
      const key = await open({ ...token(), keyId: generated.get(spec)!.keyId }, 4);
      assert.equal(key.poolSize, 4);
      const scheme: SignatureScheme = key.keyType === 'RSA' ? 'rsa-pss' : 'ecdsa';
      const messages = Array.from({ length: 50 }, (_, i) => signedAttributes(i));
      let most = 0;
      const signatures = await Promise.all(
        messages.map(async (data) => {
          const pending = key.sign('sha256', scheme, data);
          most = Math.max(most, key.openSessions);
          return pending;
        }),
      );
      assert.ok(most <= 4, `at most 4 sessions open, saw ${most}`);
      assert.ok(key.openSessions <= 4);
      signatures.forEach((sig, i) =>
        assert.ok(
          verifies(key.publicKeySpki(), 'sha256', scheme, messages[i], sig),
          `${spec} #${i}`,
        ),
      );
    }
  });

  it('refuses a wrong PIN with custody_auth_failed, without the PIN in the message', async () => {
    const noPin = (message: string) => {
      assert.ok(!message.includes(WRONG_PIN), message);
      assert.ok(!message.includes(PIN) && !message.includes(SPARE_PIN), message);
    };
    // The token checks the PIN itself.
    const own = await rejectsWith(
      openPkcs11Key({
        module: hsm.module,
        tokenLabel: SPARE_TOKEN,
        keyLabel: 'any',
        pin: WRONG_PIN,
      }),
      'custody_auth_failed',
      noPin,
    );
    assert.match(own.message, /CKR_PIN_INCORRECT/);
    assert.match(own.message, /spare-token/);
    // The relay token is logged in already (by the keys above): its login is shared by the
    // whole process and C_Login answers CKR_USER_ALREADY_LOGGED_IN; the PIN is refused anyway.
    await open({ ...token(), keyLabel: 'imported rsa' });
    await rejectsWith(
      openPkcs11Key({ ...token(), keyLabel: 'imported rsa', pin: WRONG_PIN }),
      'custody_auth_failed',
      noPin,
    );
    await rejectsWith(
      generatePkcs11Key(
        { module: hsm.module, tokenLabel: SPARE_TOKEN, pin: WRONG_PIN },
        'P-256',
        'k',
      ),
      'custody_auth_failed',
      noPin,
    );
  });

  it('says custody_key_not_found for a missing token or key', async () => {
    await rejectsWith(
      openPkcs11Key({ ...token(), tokenLabel: 'no-such-token', keyLabel: 'imported rsa' }),
      'custody_key_not_found',
      (m) => assert.match(m, /no-such-token/),
    );
    await rejectsWith(
      openPkcs11Key({ module: hsm.module, slot: 424242, pin: PIN, keyLabel: 'imported rsa' }),
      'custody_key_not_found',
      (m) => assert.match(m, /slot 424242/),
    );
    await rejectsWith(
      openPkcs11Key({ ...token(), keyLabel: 'no such key' }),
      'custody_key_not_found',
      (m) => assert.match(m, /no such key.*relay-token/),
    );
    await rejectsWith(
      openPkcs11Key({ ...token(), keyId: '00ff00ff' }),
      'custody_key_not_found',
      (m) => assert.match(m, /00ff00ff/),
    );
    await rejectsWith(openPkcs11Key({ ...token() }), 'custody_key_not_found');
  });

  it('says custody_key_unusable for a key that may not sign, or not with that scheme', async () => {
    // A key pair generated here with CKA_SIGN false on the private key.
    const { p11, session } = rawSession();
    try {
      p11.C_GenerateKeyPair(
        session,
        { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
        [
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_LABEL, value: 'no signing' },
          { type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from('06082a8648ce3d030107', 'hex') },
        ],
        [
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_PRIVATE, value: true },
          { type: pkcs11js.CKA_LABEL, value: 'no signing' },
          { type: pkcs11js.CKA_SIGN, value: false },
          { type: pkcs11js.CKA_DERIVE, value: true },
        ],
      );
    } finally {
      p11.C_CloseSession(session);
    }
    await rejectsWith(
      openPkcs11Key({ ...token(), keyLabel: 'no signing' }),
      'custody_key_unusable',
      (m) => assert.match(m, /no signing.*CKA_SIGN/),
    );

    // A key that could sign when opened, and may not any more: the token's own refusal.
    const { keyId } = await generatePkcs11Key(token(), 'P-256', 'sign revoked');
    const key = await open({ ...token(), keyId });
    await key.sign('sha256', 'ecdsa', signedAttributes(3));
    const raw = rawSession();
    try {
      raw.p11.C_SetAttributeValue(raw.session, privateKeyHandle(raw.p11, raw.session, keyId), [
        { type: pkcs11js.CKA_SIGN, value: false },
      ]);
    } finally {
      raw.p11.C_CloseSession(raw.session);
    }
    await rejectsWith(
      key.sign('sha256', 'ecdsa', signedAttributes(3)),
      'custody_key_unusable',
      (m) => assert.match(m, /CKR_KEY_FUNCTION_NOT_PERMITTED/),
    );

    // Schemes that do not fit the key type are refused before the token is asked.
    const rsa = await open({ ...token(), keyLabel: 'imported rsa' });
    await rejectsWith(rsa.sign('sha256', 'ecdsa', Buffer.from('x')), 'custody_key_unusable');
    const ec = await open({ ...token(), keyLabel: 'imported ec' });
    await rejectsWith(ec.sign('sha256', 'rsa-pss', Buffer.from('x')), 'custody_key_unusable');
  });

  it('says custody_failed, naming the path, for a module that does not exist', async () => {
    await rejectsWith(
      openPkcs11Key({ ...token(), module: '/nonexistent/libpkcs11-nothing.so', keyLabel: 'k' }),
      'custody_failed',
      (m) => assert.match(m, /\/nonexistent\/libpkcs11-nothing\.so does not exist/),
    );
    // A file that is not a PKCS#11 library at all.
    await rejectsWith(
      openPkcs11Key({ ...token(), module: process.execPath, keyLabel: 'k' }),
      'custody_failed',
      (m) => assert.match(m, /could not be (loaded|initialised)/),
    );
  });

  it('keeps generated private keys sensitive and never extractable', () => {
    const { p11, session } = rawSession();
    try {
      for (const [spec, { keyId }] of generated) {
        const handle = privateKeyHandle(p11, session, keyId);
        const flags = p11.C_GetAttributeValue(session, handle, [
          { type: pkcs11js.CKA_TOKEN },
          { type: pkcs11js.CKA_PRIVATE },
          { type: pkcs11js.CKA_SENSITIVE },
          { type: pkcs11js.CKA_EXTRACTABLE },
          { type: pkcs11js.CKA_ALWAYS_SENSITIVE },
          { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
          { type: pkcs11js.CKA_SIGN },
          { type: pkcs11js.CKA_DECRYPT },
        ]);
        const [tokenObject, priv, sensitive, extractable, always, never, sign, decrypt] = flags.map(
          (a) => a.value[0] === 1,
        );
        assert.ok(tokenObject && priv && sign, spec);
        assert.equal(sensitive, true, `${spec} CKA_SENSITIVE`);
        assert.equal(extractable, false, `${spec} CKA_EXTRACTABLE`);
        assert.equal(always, true, `${spec} CKA_ALWAYS_SENSITIVE`);
        assert.equal(never, true, `${spec} CKA_NEVER_EXTRACTABLE`);
        assert.equal(decrypt, false, `${spec} signs only`);
        const secret = spec.startsWith('RSA')
          ? [pkcs11js.CKA_PRIVATE_EXPONENT, pkcs11js.CKA_PRIME_1]
          : [pkcs11js.CKA_VALUE];
        for (const type of secret) {
          assert.throws(
            () => p11.C_GetAttributeValue(session, handle, [{ type }]),
            /CKR_ATTRIBUTE_SENSITIVE/,
            `${spec} attribute 0x${type.toString(16)}`,
          );
        }
      }
    } finally {
      p11.C_CloseSession(session);
    }
  });

  it('reopens its sessions once when they were closed or logged out under it', async () => {
    const key = await open({ ...token(), keyId: generated.get('RSA-2048')!.keyId }, 2);
    const spki = key.publicKeySpki();
    const signOk = async (n: number) => {
      const data = signedAttributes(n);
      assert.ok(
        verifies(spki, 'sha256', 'rsa-pkcs1', data, await key.sign('sha256', 'rsa-pkcs1', data)),
      );
    };
    await Promise.all([signOk(1), signOk(2)]);

    // Every session of this process on the token closed (CKR_SESSION_HANDLE_INVALID next).
    const a = rawSession();
    a.p11.C_CloseAllSessions(a.slot);
    await Promise.all([signOk(3), signOk(4)]);

    // The token logged out (SoftHSM2 then answers CKR_OBJECT_HANDLE_INVALID for the key).
    const b = rawSession();
    b.p11.C_Logout(b.session);
    b.p11.C_CloseSession(b.session);
    await signOk(5);
    await signOk(6);
  });

  it('fails with custody_unavailable after close()', async () => {
    const key = await openPkcs11Key({ ...token(), keyLabel: 'imported ec' });
    await key.close();
    await rejectsWith(key.sign('sha256', 'ecdsa', Buffer.from('x')), 'custody_unavailable');
  });

  it('signs RSA-PSS with the hash-and-sign mechanism when the token offers no CKM_RSA_PKCS_PSS', async () => {
    const original = readFileSync(hsm.conf, 'utf8');
    await closeAllPkcs11();
    // SoftHSM2 2.6.1 keeps the '-' of a negative list on its first name, which then matches
    // no mechanism: the name is given twice so that the second one is removed.
    writeFileSync(hsm.conf, `${original}slots.mechanisms = -CKM_RSA_PKCS_PSS,CKM_RSA_PKCS_PSS\n`);
    try {
      const key = await open({ ...token(), keyLabel: 'imported rsa' });
      const p11 = pkcs11Module(hsm.module);
      const slot = p11
        .C_GetSlotList(true)
        .find((s) => p11.C_GetTokenInfo(s).label.trimEnd() === TOKEN)!;
      const mechanisms = p11.C_GetMechanismList(slot);
      assert.ok(
        !mechanisms.includes(pkcs11js.CKM_RSA_PKCS_PSS),
        'SoftHSM2 honoured the configuration',
      );
      assert.ok(mechanisms.includes(pkcs11js.CKM_SHA256_RSA_PKCS_PSS));
      for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
        const data = signedAttributes(11);
        const signature = await key.sign(hash, 'rsa-pss', data);
        assert.ok(verifies(key.publicKeySpki(), hash, 'rsa-pss', data, signature), hash);
      }
    } finally {
      await closeAllPkcs11();
      writeFileSync(hsm.conf, original);
    }
  });
});

describe('pkcs11 custody helpers', () => {
  it('encodes the raw r||s of CKM_ECDSA as a DER ECDSA-Sig-Value', () => {
    // r has leading zeros and then a high bit (needs a 0x00), s has neither, then zero
    const raw = Buffer.from('00008001' + '7f000000', 'hex');
    assert.equal(ecdsaRawToDer(raw, 4).toString('hex'), '300b' + '0203008001' + '02047f000000');
    assert.equal(ecdsaRawToDer(Buffer.alloc(8), 4).toString('hex'), '3006020100020100');
    assert.throws(() => ecdsaRawToDer(Buffer.alloc(63), 32), CustodyError);
    // Against OpenSSL: P1363 signatures converted here verify as DER (r or s often starts
    // with a high bit, now and then with a zero byte).
    for (const curve of ['P-256', 'P-384'] as const) {
      const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: curve });
      const size = curve === 'P-256' ? 32 : 48;
      for (let i = 0; i < 64; i++) {
        const data = Buffer.from(`message ${i}`);
        const p1363 = crypto.sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        const der = ecdsaRawToDer(p1363, size);
        assert.ok(crypto.verify('sha256', data, publicKey, der), `${curve} #${i}`);
      }
    }
  });

  it('maps PKCS#11 return values to custody error codes', () => {
    const p11 = (name: string) => Object.assign(new Error(name), { name: 'Pkcs11Error' });
    const cases: Array<[string, CustodyError['code'], boolean]> = [
      ['CKR_PIN_INCORRECT', 'custody_auth_failed', false],
      ['CKR_PIN_LOCKED', 'custody_auth_failed', false],
      ['CKR_PIN_LEN_RANGE', 'custody_auth_failed', false],
      ['CKR_SLOT_ID_INVALID', 'custody_key_not_found', false],
      ['CKR_KEY_FUNCTION_NOT_PERMITTED', 'custody_key_unusable', false],
      ['CKR_KEY_TYPE_INCONSISTENT', 'custody_key_unusable', false],
      ['CKR_MECHANISM_INVALID', 'custody_key_unusable', false],
      ['CKR_SESSION_COUNT', 'custody_unavailable', true],
      ['CKR_DEVICE_ERROR', 'custody_unavailable', true],
      ['CKR_TOKEN_NOT_PRESENT', 'custody_unavailable', true],
      ['CKR_DEVICE_REMOVED', 'custody_unavailable', true],
      ['CKR_FUNCTION_FAILED', 'custody_unavailable', true],
      ['CKR_GENERAL_ERROR', 'custody_failed', false],
      ['CKR_VENDOR_DEFINED', 'custody_failed', false],
    ];
    for (const [name, code, transient] of cases) {
      const e = pkcs11CustodyError(p11(name), 'sign with', 'key "k" on token "t"');
      assert.equal(e.code, code, name);
      assert.equal(e.transient, transient, name);
      assert.ok(e.message.includes(name) && e.message.includes('key "k" on token "t"'), e.message);
    }
    assert.equal(pkcs11CustodyError(new Error('odd'), 'sign with', 'k').code, 'custody_failed');
  });

  it('does not load the pkcs11js native addon until a token is used', () => {
    const script = [
      "require('./src/custody/pkcs11.ts');",
      "const loaded = Object.keys(require.cache).filter((f) => f.includes('pkcs11js'));",
      'process.stdout.write(JSON.stringify(loaded));',
    ].join('\n');
    const res = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.json' },
    });
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout), []);
  });
});
