/**
 * The smime-relay CLI (src/cli/main.ts) as a child process: signing with every way of giving
 * the identity and password, the output options, and verify with --ca and --json. The exit
 * codes and one-line errors of the failure cases are in cli-errors.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  KEY_PASSWORD,
  P12_PASSWORD,
  createTestPki,
  generateKey,
  type TestPki,
} from './helpers/pki';
import { runOk } from './helpers/pki-exec';
import { VERIFIERS, verifyWithAll, verifyWithOpenssl } from './helpers/verifiers';
import { MESSAGE, cli, show, type CliResult } from './support/cli';
import { OIDS, oidOf, readMessageCms } from './support/cms';
import { one, replaceOnce, topHeaders } from './support/engine';

let pki: TestPki;
let dir: string;
const f = (name: string): string => join(dir, name);
before(async () => {
  pki = await createTestPki();
  dir = await mkdtemp(join(tmpdir(), 'smime-cli-test-'));
  await writeFile(f('msg.eml'), MESSAGE);
  await writeFile(f('p12-password.txt'), `${P12_PASSWORD}\n`);
});
after(() => rm(dir, { recursive: true, force: true }));

/** Signed output must verify with OpenSSL and carry the given micalg. */
async function assertSigned(r: CliResult, micalg?: string): Promise<Buffer> {
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stderr, '');
  const res = await verifyWithOpenssl(r.stdout, pki);
  assert.ok(res.ok, res.output);
  if (micalg) assert.equal(one(topHeaders(r.stdout), 'content-type').params.get('micalg'), micalg);
  return r.stdout;
}

describe('sign', { concurrency: 3 }, () => {
  test('PKCS#12 with --password-env, --in/--out files', async () => {
    const r = await cli(
      [
        'sign',
        '--cert',
        pki.identities.rsa2048.p12Path ?? '',
        '--password-env',
        'SMIME_TEST_PW',
        '--in',
        f('msg.eml'),
        '--out',
        f('out.eml'),
      ],
      { env: { SMIME_TEST_PW: P12_PASSWORD } },
    );
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.length, 0, '--out: nothing on stdout');
    await assertSigned({ ...r, stdout: await readFile(f('out.eml')) }, 'sha-256');
  });

  test('PKCS#12 with --password-file, stdin → stdout', async () => {
    const r = await cli(
      [
        'sign',
        '--cert',
        pki.identities.p256.p12Path ?? '',
        '--password-file',
        f('p12-password.txt'),
      ],
      {
        input: MESSAGE,
      },
    );
    await assertSigned(r, 'sha-256');
  });

  test('PEM certificate with --key and --chain, stdin → stdout', async () => {
    const id = pki.identities.rsa3072;
    const r = await cli(
      ['sign', '--cert', id.certPath, '--key', id.keyPath, '--chain', pki.chainPath],
      { input: MESSAGE },
    );
    await assertSigned(r, 'sha-256');
  });

  test('encrypted PKCS#8 key with --password-env', async () => {
    const id = pki.identities.rsa2048;
    const r = await cli(
      [
        'sign',
        '--cert',
        id.certPath,
        '--key',
        id.encryptedKeyPath ?? '',
        '--chain',
        pki.chainPath,
        '--password-env',
        'KEYPW',
        '--in',
        f('msg.eml'),
      ],
      { env: { KEYPW: KEY_PASSWORD } },
    );
    await assertSigned(r);
  });

  test('--format opaque', async () => {
    const r = await cli([
      'sign',
      '--cert',
      pki.identities.rsa2048.p12Path ?? '',
      '--password-file',
      f('p12-password.txt'),
      '--format',
      'opaque',
      '--in',
      f('msg.eml'),
    ]);
    const signed = await assertSigned(r);
    const ct = one(topHeaders(signed), 'content-type');
    assert.equal(ct.mime, 'application/pkcs7-mime');
    assert.equal(ct.params.get('smime-type'), 'signed-data');
    assert.ok(readMessageCms(signed).eContent, 'eContent present');
  });

  test('--hash sha512', async () => {
    const r = await cli([
      'sign',
      '--cert',
      pki.identities.p256.p12Path ?? '',
      '--password-file',
      f('p12-password.txt'),
      '--hash',
      'sha512',
      '--in',
      f('msg.eml'),
    ]);
    const signed = await assertSigned(r, 'sha-512');
    const si = readMessageCms(signed).signerInfos[0];
    assert.equal(oidOf(si.digestAlgorithm.children[0]), OIDS.sha512);
    assert.equal(oidOf(si.signatureAlgorithm.children[0]), OIDS.ecdsaWithSha512);
  });

  test('--pss', async () => {
    const r = await cli([
      'sign',
      '--cert',
      pki.identities.rsa2048.p12Path ?? '',
      '--password-file',
      f('p12-password.txt'),
      '--pss',
      '--in',
      f('msg.eml'),
    ]);
    const signed = await assertSigned(r, 'sha-256');
    assert.equal(
      oidOf(readMessageCms(signed).signerInfos[0].signatureAlgorithm.children[0]),
      OIDS.rsassaPss,
    );
  });

  test('P-384 without --hash uses the engine default (SHA-384), which all verifiers accept', async () => {
    const id = pki.identities.p384;
    const r = await cli([
      'sign',
      '--cert',
      id.certPath,
      '--key',
      id.keyPath,
      '--chain',
      pki.chainPath,
      '--in',
      f('msg.eml'),
    ]);
    assert.equal(r.code, 0, show(r));
    assert.equal(one(topHeaders(r.stdout), 'content-type').params.get('micalg'), 'sha-384');
    const results = await verifyWithAll(r.stdout, pki);
    for (const v of VERIFIERS) assert.ok(results[v].ok, `${v}:\n${results[v].output}`);
  });
});

describe('verify', { concurrency: 3 }, () => {
  let signed: Buffer;
  before(async () => {
    const r = await cli([
      'sign',
      '--cert',
      pki.identities.rsa2048.p12Path ?? '',
      '--password-file',
      f('p12-password.txt'),
      '--in',
      f('msg.eml'),
    ]);
    assert.equal(r.code, 0, show(r));
    signed = r.stdout;
    await writeFile(f('signed.eml'), signed);
    await generateKey('p256', f('rogue.key'));
    // prettier-ignore
    await runOk('openssl', [
      'req', '-x509', '-new', '-config', pki.configPath, '-extensions', 'v3_root', '-key', f('rogue.key'),
      '-subj', '/CN=Rogue Root/O=Example Org', '-days', '30', '-out', f('rogue.pem'),
    ]);
  });

  test('exit 0 with --ca; the human report says so', async () => {
    const r = await cli(['verify', '--in', f('signed.eml'), '--ca', pki.rootPath]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout.toString(), /^valid: yes$/m);
    assert.match(r.stdout.toString(), /^chain: trusted$/m);
  });

  test('--json report parses, from stdin', async () => {
    const r = await cli(['verify', '--ca', pki.rootPath, '--json'], { input: signed });
    assert.equal(r.code, 0, show(r));
    const report = JSON.parse(r.stdout.toString('utf8'));
    assert.equal(report.valid, true);
    assert.equal(report.chainTrusted, true);
    assert.equal(report.format, 'detached');
    assert.equal(report.from, 'news@example.com');
    assert.deepEqual(report.errors, []);
    assert.match(report.signer.subject, /CN=News Sender RSA-2048/);
  });

  test('without --ca the chain is not judged (chainTrusted null), exit 0', async () => {
    const r = await cli(['verify', '--in', f('signed.eml'), '--json']);
    assert.equal(r.code, 0, show(r));
    assert.equal(JSON.parse(r.stdout.toString()).chainTrusted, null);
  });

  test('exit 4 for a tampered message, and for an untrusted --ca', async () => {
    const tampered = replaceOnce(signed, 'Preferences</a>', 'Preferencez</a>');
    const r = await cli(['verify', '--ca', pki.rootPath], { input: tampered });
    assert.equal(r.code, 4, show(r));
    assert.match(r.stderr, /^error \[digest_mismatch\]: [^\n]+\n$/);
    assert.match(r.stdout.toString(), /^valid: NO$/m);
    const untrusted = await cli(['verify', '--in', f('signed.eml'), '--ca', f('rogue.pem')]);
    assert.equal(untrusted.code, 4, show(untrusted));
    assert.match(untrusted.stderr, /^error \[chain_untrusted\]: [^\n]+\n$/);
  });
});
