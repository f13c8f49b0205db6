/**
 * The smime-relay CLI's failures: exit 2 (usage), 3 (identity or certificate refused) and 4
 * (message refused, verification failed), each with exactly one stderr line
 * `error [code]: ...`, no stack trace, no password, and nothing on stdout.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KEY_PASSWORD, P12_PASSWORD, createTestPki, type TestPki } from './helpers/pki';
import { MESSAGE, assertFailure, cli } from './support/cli';
import { WRONG_PASSWORD, replaceOnce } from './support/engine';

let pki: TestPki;
let dir: string;
const f = (name: string): string => join(dir, name);
before(async () => {
  pki = await createTestPki();
  dir = await mkdtemp(join(tmpdir(), 'smime-cli-errors-'));
  await writeFile(f('msg.eml'), MESSAGE);
  await writeFile(f('p12-password.txt'), `${P12_PASSWORD}\n`);
  await writeFile(f('wrong-password.txt'), `${WRONG_PASSWORD}\n`);
});
after(() => rm(dir, { recursive: true, force: true }));

describe('failures: exit codes and one-line errors', { concurrency: 3 }, () => {
  const p12 = () => pki.identities.rsa2048.p12Path ?? '';
  test('exit 2: unknown option, missing --cert, bad --hash, missing input file', async () => {
    assertFailure(await cli(['sign', '--cert', p12(), '--bogus']), 2, 'usage');
    assertFailure(await cli(['sign', '--in', f('msg.eml')]), 2, 'usage');
    assertFailure(
      await cli(['sign', '--cert', p12(), '--hash', 'md5', '--in', f('msg.eml')]),
      2,
      'usage',
    );
    assertFailure(
      await cli([
        'sign',
        '--cert',
        p12(),
        '--password-file',
        f('p12-password.txt'),
        '--in',
        f('missing.eml'),
      ]),
      2,
      'usage',
    );
    assertFailure(await cli(['verify', '--in', f('missing.eml')]), 2, 'usage');
  });

  test('exit 3: wrong password (env and file), no stack trace, password not shown', async () => {
    const env = await cli(
      [
        'sign',
        '--cert',
        p12(),
        '--password-env',
        'PW',
        '--in',
        f('msg.eml'),
        '--out',
        f('never.eml'),
      ],
      {
        env: { PW: WRONG_PASSWORD },
      },
    );
    assertFailure(env, 3, 'bad_password', [WRONG_PASSWORD, P12_PASSWORD]);
    assert.ok(!existsSync(f('never.eml')), 'no output file written');
    const file = await cli(['sign', '--cert', p12(), '--password-file', f('wrong-password.txt')], {
      input: MESSAGE,
    });
    assertFailure(file, 3, 'bad_password', [WRONG_PASSWORD, P12_PASSWORD]);
  });

  test('exit 3: wrong or missing password for an encrypted key', async () => {
    const id = pki.identities.p256;
    const args = [
      'sign',
      '--cert',
      id.certPath,
      '--key',
      id.encryptedKeyPath ?? '',
      '--in',
      f('msg.eml'),
    ];
    const wrong = await cli([...args, '--password-env', 'KEYPW'], {
      env: { KEYPW: WRONG_PASSWORD },
    });
    assertFailure(wrong, 3, 'bad_password', [WRONG_PASSWORD, KEY_PASSWORD]);
    assertFailure(await cli(args), 3, 'bad_password', [KEY_PASSWORD]);
  });

  test('exit 2: --password-env names an unset variable; both password options', async () => {
    const args = ['sign', '--cert', p12(), '--in', f('msg.eml')];
    assertFailure(await cli([...args, '--password-env', 'SMIME_TEST_UNSET_VAR']), 2, 'usage');
    assertFailure(
      await cli([...args, '--password-env', 'PW', '--password-file', f('p12-password.txt')], {
        env: { PW: P12_PASSWORD },
      }),
      2,
      'usage',
      [P12_PASSWORD],
    );
  });

  test('exit 3: expired certificate', async () => {
    const id = pki.identities.expired;
    const r = await cli([
      'sign',
      '--cert',
      id.certPath,
      '--key',
      id.keyPath,
      '--in',
      f('msg.eml'),
      '--out',
      f('expired.eml'),
    ]);
    assertFailure(r, 3, 'certificate_expired');
    assert.ok(!existsSync(f('expired.eml')), 'no output file written');
  });

  test('exit 4: From: does not match the certificate', async () => {
    const other = replaceOnce(
      MESSAGE,
      'From: "Example News" <news@example.com>',
      'From: "Example News" <news@example.org>',
    );
    const r = await cli(['sign', '--cert', p12(), '--password-file', f('p12-password.txt')], {
      input: other,
    });
    assertFailure(r, 4, 'from_mismatch');
  });
});
