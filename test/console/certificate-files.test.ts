/**
 * PEM files dropped together on the certificate upload: the console tells the private key,
 * the signer's certificate and the CA certificates apart by what they hold, whatever order
 * the files arrive in and whatever they are called. A key that matches no certificate is
 * still refused as key_mismatch.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { op } from '../support/relay';
import { createTestPki, KEY_PASSWORD, type TestPki } from '../helpers/pki';
import { screenshot } from './browser';
import { consoleFixture, openConsole, type Lang } from './console-fixture';

interface Dropped {
  name: string;
  text: string;
}

/** The page's DataTransfer, for a function that runs in the browser (no DOM types here). */
interface DropGlobals {
  DataTransfer: new () => { items: { add(file: unknown): void } };
  File: new (parts: string[], name: string) => unknown;
}

async function drop(page: Page, files: Dropped[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle((list) => {
    const g = globalThis as unknown as DropGlobals;
    const dt = new g.DataTransfer();
    for (const f of list) dt.items.add(new g.File([f.text], f.name));
    return dt;
  }, files);
  await page.dispatchEvent('#dropzone', 'drop', { dataTransfer });
  await page.locator('#dropzone .chosen').getByText(files[0].name).waitFor();
}

const fingerprint = (pem: string): string =>
  new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();

describe(
  'console certificate upload: PEM files told apart by content',
  { timeout: 180_000 },
  () => {
    const f = consoleFixture();
    let pki: TestPki;

    before(async () => {
      pki = await createTestPki();
    });

    /** The cases: files in the order dropped, the password, and the certificate to be stored. */
    function cases(): { what: string; files: Dropped[]; password?: string; stored?: string }[] {
      const rsa = pki.identities.rsa2048;
      const ec = pki.identities.p256;
      const bundle = pki.intermediatePem + pki.rootPem;
      return [
        {
          what: 'chain first, then certificate and key',
          files: [
            { name: 'chain.pem', text: bundle },
            { name: 'cert.pem', text: rsa.certPem },
            { name: 'key.pem', text: rsa.keyPem },
          ],
          stored: rsa.certPem,
        },
        {
          what: 'an EC key in SEC1 form, files named misleadingly',
          files: [
            { name: 'certificate.pem', text: ec.pkcs1or_sec1KeyPem! },
            { name: 'ca.crt', text: ec.certPem },
            { name: 'server.key', text: pki.intermediatePem },
          ],
          stored: ec.certPem,
        },
        {
          what: 'an encrypted key: the end-entity certificate, not a CA one',
          files: [
            { name: 'root.pem', text: pki.rootPem },
            { name: 'key.pem', text: rsa.encryptedKeyPem! },
            { name: 'intermediate.pem', text: pki.intermediatePem },
            { name: 'cert.pem', text: rsa.certPem },
          ],
          password: KEY_PASSWORD,
          stored: rsa.certPem,
        },
        {
          what: 'one file holding the chain, then the key, then the certificate',
          files: [{ name: 'all.pem', text: bundle + rsa.keyPem + rsa.certPem }],
          stored: rsa.certPem,
        },
        {
          what: 'a key of another certificate',
          files: [
            { name: 'chain.pem', text: pki.intermediatePem },
            { name: 'cert.pem', text: pki.identities.mismatchedKey.certPem },
            { name: 'key.pem', text: pki.identities.mismatchedKey.keyPem },
          ],
        },
      ];
    }

    for (const [lang, width] of [
      ['en', 1280],
      ['ja', 390],
    ] as [Lang, number][]) {
      test(`files dropped in any order are stored: ${lang}, ${width} px`, async () => {
        const { context, page, problems } = await openConsole(f, { lang, width });
        try {
          for (const [n, c] of cases().entries()) {
            const tenant = await f.app.request('POST', '/v1/tenants', {
              ...op,
              body: { name: `PEM ${lang} ${n}` },
            });
            assert.equal(tenant.status, 201, tenant.text);
            const path = `/v1/tenants/${tenant.json.id}/certificates`;
            await page.goto(`${f.app.url}/console#/t/${tenant.json.id}/certificates`);
            await page.locator('#certificate-list p').waitFor();
            await drop(page, c.files);
            if (c.password) await page.locator('#cert-password').fill(c.password);
            await page.locator('#dropzone ~ button[type=submit]').click();
            await page.locator('#upload-result .success, #upload-result .error').waitFor();
            const stored = await f.app.request('GET', path, op);
            if (c.stored) {
              const words = await page.locator('#upload-result').textContent();
              assert.equal(
                await page.locator('#upload-result .success').count(),
                1,
                `${c.what}: ${words}`,
              );
              assert.equal(stored.json.length, 1, c.what);
              assert.equal(stored.json[0].fingerprintSha256, fingerprint(c.stored), c.what);
            } else {
              const words = await page.locator('#upload-result .error-words').textContent();
              assert.match(words ?? '', /\(key_mismatch\)$/, c.what);
              assert.equal(stored.json.length, 0, c.what);
            }
          }
          await screenshot(page, `certificate-files-${lang}-${width}`);
          assert.deepEqual(problems, []);
        } finally {
          await context.close();
        }
      });
    }
  },
);
