/**
 * Console screens for what the admin API offered without one, through the real API:
 * - a webhook subscription disabled by its receiver (410 Gone) is enabled again, and its
 *   secret rotated: the new secret is shown once, signs the next call, and is gone on reload;
 * - a Mautic connection is made with a password that is never shown back, and removed;
 * - a tenant is renamed, then deleted only once its name is typed out.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  startReceiver,
  type ReceivedCall,
  type WebhookReceiver,
} from '../helpers/webhook-receiver';
import { op } from '../support/relay';
import { screenshot } from './browser';
import { consoleFixture, openConsole, type Lang, type PageGlobals } from './console-fixture';

const CASES: [Lang, number][] = [
  ['en', 1280],
  ['ja', 390],
];

const WORDS = {
  en: {
    disabled: 'Disabled',
    enabled: 'Enabled',
    enable: 'Enable again',
    rotate: 'Rotate the secret',
    test: 'Send a test',
    stored: 'Stored, not shown',
    noFeedback: 'Nothing has been reported to Mautic yet.',
    feedback: 'Feedback log',
    oauth: 'Client secret',
    name: 'Name',
    mismatch: 'nothing was deleted',
    deleted: 'is deleted',
  },
  ja: {
    disabled: '無効',
    enabled: '有効',
    enable: '再び有効にする',
    rotate: 'シークレットを再発行',
    test: 'テスト送信',
    stored: '保存済み（表示しません）',
    noFeedback: 'Mautic への通知はまだありません。',
    feedback: '通知の記録',
    oauth: 'クライアントシークレット',
    name: '名前',
    mismatch: '削除していません',
    deleted: 'を削除しました',
  },
};

/** Whether `secret` signed the Standard Webhooks call (HMAC-SHA256 of "id.timestamp.body"). */
function signedWith(secret: string, call: ReceivedCall): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const data = `${call.headers['webhook-id']}.${call.headers['webhook-timestamp']}.${call.body}`;
  const expected = createHmac('sha256', key).update(data).digest('base64');
  return String(call.headers['webhook-signature'])
    .split(' ')
    .some((s) => s === `v1,${expected}`);
}

const scrollWidth = (page: import('playwright-core').Page) =>
  page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth);

describe(
  'console: webhook re-enable and rotation, Mautic, tenant rename and delete',
  { timeout: 300_000 },
  () => {
    const f = consoleFixture({ WEBHOOK_ALLOW_PRIVATE: 'true', PLATFORM_ALLOW_PRIVATE: 'true' });
    let receiver: WebhookReceiver;
    before(async () => {
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver?.close();
    });

    for (const [lang, width] of CASES) {
      test(`a disabled webhook is enabled again and its secret rotated: ${lang}, ${width} px`, async () => {
        const w = WORDS[lang];
        const base = `/v1/tenants/${f.tenant.id}/webhooks`;
        const url = `${receiver.url}/${lang}`;
        const hook = await f.app.request('POST', base, {
          ...op,
          body: { url, events: ['message.delivery_failed'] },
        });
        assert.equal(hook.status, 201, hook.text);
        // The receiver answers 410 Gone: the subscription is disabled.
        receiver.status = () => 410;
        await f.app.request('POST', `${base}/${hook.json.id}/test`, op);
        receiver.status = () => 200;
        assert.equal(
          (await f.app.request('GET', `${base}/${hook.json.id}`, op)).json.enabled,
          false,
        );

        const { context, page, problems } = await openConsole(f, {
          lang,
          width,
          hash: `#/t/${f.tenant.id}/webhooks`,
        });
        page.on('dialog', (d) => void d.accept());
        try {
          const row = page.locator('#webhook-list li', { hasText: url });
          await row.locator('.badge', { hasText: w.disabled }).waitFor();
          await row.getByRole('button', { name: w.enable }).click();
          await row.locator('.badge', { hasText: w.enabled }).waitFor();
          assert.equal(
            (await f.app.request('GET', `${base}/${hook.json.id}`, op)).json.enabled,
            true,
          );
          assert.equal(await row.getByRole('button', { name: w.enable }).count(), 0);

          await row.getByRole('button', { name: w.rotate }).click();
          const shown = row.locator('.once input');
          await shown.waitFor();
          const secret = await shown.inputValue();
          assert.match(secret, /^whsec_/);
          assert.notEqual(secret, hook.json.secret);
          await screenshot(page, `webhook-rotated-${lang}-${width}`);

          // The next call is signed with the new secret, not the old one.
          const before = receiver.calls.length;
          await row.getByRole('button', { name: w.test }).click();
          await row.locator('.success').waitFor();
          const call = receiver.calls[before];
          assert.ok(call, 'the test call arrived');
          assert.ok(signedWith(secret, call), 'signed with the rotated secret');
          assert.ok(!signedWith(hook.json.secret, call), 'not signed with the old secret');

          // Shown once: after a reload it is nowhere on the page.
          await page.reload();
          await page.locator('#webhook-list li', { hasText: url }).waitFor();
          assert.ok(!(await page.content()).includes(secret), 'the secret is shown again');
          if (width === 390) assert.ok((await scrollWidth(page)) <= width);
          assert.deepEqual(problems, []);
        } finally {
          await context.close();
        }
      });

      test(`a Mautic connection keeps its password out of sight: ${lang}, ${width} px`, async () => {
        const w = WORDS[lang];
        const siteUrl = `http://127.0.0.1:9/mautic-${lang}`;
        const password = `mautic-pass-${lang}-S3cret`;
        const { context, page, problems } = await openConsole(f, {
          lang,
          width,
          hash: `#/t/${f.tenant.id}/mautic`,
        });
        page.on('dialog', (d) => void d.accept());
        try {
          await page.locator('#mautic-list > *').first().waitFor();
          const form = page.locator('form', { has: page.locator('#mautic-result') });
          await form.locator('input[type=url]').fill(siteUrl);
          await form.locator('input[type=text]:visible').first().fill('relay-user');
          await form.locator('input[type=password]:visible').fill(password);
          await form.locator('button[type=submit]').click();
          const row = page.locator('#mautic-list li', { hasText: siteUrl });
          await row.waitFor();
          assert.equal((await row.locator('.secret-stored').textContent())?.trim(), w.stored);
          assert.ok((await row.textContent())?.includes('relay-user'));
          assert.ok(!(await page.content()).includes(password), 'the password is on the page');
          assert.equal(await form.locator('input[type=password]:visible').inputValue(), '');
          const list = await f.app.request(
            'GET',
            `/v1/tenants/${f.tenant.id}/integrations/mautic`,
            op,
          );
          const stored = list.json.find((i: { settings: { baseUrl: string } }) =>
            i.settings.baseUrl.startsWith(siteUrl),
          );
          assert.equal(stored.settings.credentials.password, '[redacted]');
          await screenshot(page, `mautic-${lang}-${width}`);

          // OAuth 2 asks for a client ID and secret instead.
          await form.locator('select').selectOption('oauth2');
          await page.getByLabel(w.oauth, { exact: true }).waitFor();

          await row.getByRole('button', { name: w.feedback }).click();
          await row.getByText(w.noFeedback).waitFor();
          if (width === 390) assert.ok((await scrollWidth(page)) <= width);

          await row.locator('button.danger').click();
          await row.waitFor({ state: 'detached' });
          const afterRemove = await f.app.request(
            'GET',
            `/v1/tenants/${f.tenant.id}/integrations/mautic/${stored.id}`,
            op,
          );
          assert.equal(afterRemove.status, 404);
          assert.deepEqual(problems, []);
        } finally {
          await context.close();
        }
      });

      test(`a tenant is renamed, then deleted once its name is typed: ${lang}, ${width} px`, async () => {
        const w = WORDS[lang];
        const created = await f.app.request('POST', '/v1/tenants', {
          ...op,
          body: { name: `Rename me ${lang}` },
        });
        assert.equal(created.status, 201, created.text);
        const id = created.json.id as string;
        const newName = `Renamed ${lang} 改名`;
        const { context, page, problems } = await openConsole(f, {
          lang,
          width,
          hash: `#/t/${id}/tenant`,
        });
        try {
          const name = page.getByLabel(w.name, { exact: true });
          await name.waitFor();
          assert.equal(await name.inputValue(), `Rename me ${lang}`);
          await name.fill(newName);
          await page
            .locator('form', { has: page.locator('#rename-result') })
            .locator('button')
            .click();
          await page.locator('#rename-result .success').waitFor();
          assert.equal((await f.app.request('GET', `/v1/tenants/${id}`, op)).json.name, newName);
          assert.equal(
            await page.locator(`#tenant-picker option[value="${id}"]`).textContent(),
            newName,
          );
          assert.ok((await page.locator('h1').textContent())?.includes(newName));

          const typed = page.locator('#delete-name');
          const submit = page.locator('form', { has: typed }).locator('button[type=submit]');
          await typed.fill(`Rename me ${lang}`);
          await submit.click();
          await page.locator('#delete-result .error', { hasText: w.mismatch }).waitFor();
          assert.equal((await f.app.request('GET', `/v1/tenants/${id}`, op)).status, 200);
          await screenshot(page, `tenant-settings-${lang}-${width}`);

          await typed.fill(newName);
          await submit.click();
          await page.waitForURL(/#\/tenants$/);
          const notice = page.locator('#main .success', { hasText: w.deleted });
          await notice.waitFor();
          assert.ok((await notice.textContent())?.includes(newName));
          assert.equal((await f.app.request('GET', `/v1/tenants/${id}`, op)).status, 404);
          assert.equal(await page.locator(`#tenant-picker option[value="${id}"]`).count(), 0);
          if (width === 390) assert.ok((await scrollWidth(page)) <= width);
          assert.deepEqual(problems, []);
        } finally {
          await context.close();
        }
      });
    }
  },
);
