/**
 * The console in Japanese: an error shows the Japanese words and the code, with no English
 * line under them; Mautic's DSN shows its placeholders readable, not percent-encoded; a
 * refused delivery setting is explained in Japanese, naming the field with the words
 * listmonk's and Mautic's Japanese screens use. English keeps the API's own explanation.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { screenshot } from './browser';
import { consoleFixture, openConsole, WIDTHS } from './console-fixture';

/** A Japanese reader's text has no English sentence: no run of three English words. */
const ENGLISH_PROSE = /\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b/;

/** Pick `transport` and fill its form's fields (by JSON path), then save. */
async function saveProviderSettings(
  page: Page,
  transport: string,
  values: Record<string, string>,
): Promise<void> {
  await page.locator('#delivery-result').waitFor({ state: 'attached' });
  const form = page.locator('form', { has: page.locator('#delivery-result') });
  await form.locator('select').first().selectOption(transport);
  for (const [name, value] of Object.entries(values)) {
    await form.locator(`[name="setting-${name.replace(/\./g, '-')}"]`).fill(value);
  }
  await form.locator('button[type=submit]').click();
  await page.locator('#delivery-result .error').waitFor();
}

describe('console in Japanese: errors, DSN and provider settings', { timeout: 180_000 }, () => {
  const f = consoleFixture();

  for (const width of WIDTHS) {
    test(`an error is Japanese words and the code only: ${width} px`, async () => {
      const { context, page } = await openConsole(f, { lang: 'ja', width });
      try {
        await page.locator('header button').click();
        await page.locator('#main input[type=password]').fill('srk_not-a-real-key');
        await page.locator('#main input[type=password]').press('Enter');
        const box = page.locator('#main .error');
        await box.waitFor();
        assert.equal(
          (await box.textContent())?.trim(),
          'このトークンまたは API キーは受け付けられません (unauthorized)',
        );
        assert.equal(await box.locator('.error-detail').count(), 0);
      } finally {
        await context.close();
      }
    });

    test(`Mautic's DSN placeholder is readable: ${width} px`, async () => {
      const { context, page } = await openConsole(f, {
        lang: 'ja',
        width,
        hash: `#/t/${f.tenant.id}/sending`,
      });
      try {
        const blocks = page.locator('#paste-blocks');
        await blocks.locator('pre').first().waitFor();
        const text = (await blocks.textContent()) ?? '';
        assert.match(text, /smtp:\/\/ユーザー名:パスワード@127\.0\.0\.1:\d+/);
        assert.doesNotMatch(text, /%[0-9A-F]{2}/);
        // listmonk's SMTP form, in listmonk's own Japanese words.
        for (const word of [
          'ホスト: ',
          'ポート: ',
          '認証プロトコル: ',
          'ユーザー名: ',
          'パスワード: ',
        ]) {
          assert.ok(text.includes(word), `${word} is missing from the listmonk block`);
        }
      } finally {
        await context.close();
      }
    });

    test(`refused provider settings are explained in Japanese: ${width} px`, async () => {
      const { context, page, problems } = await openConsole(f, {
        lang: 'ja',
        width,
        hash: `#/t/${f.tenant.id}/sending`,
      });
      try {
        await saveProviderSettings(page, 'mailgun', { apiKey: 'has space', domain: 'x' });
        const box = page.locator('#delivery-result .error');
        const lines = await box.locator('p').allTextContents();
        assert.equal(lines[0], 'リクエストが正しくありません (invalid_request)');
        assert.deepEqual(
          lines.slice(1).sort(),
          [
            '「API キー」（apiKey）に空白や改行は使えません',
            '「送信ドメイン」（domain）は mg.example.com のようなドメイン名にしてください',
          ].sort(),
        );
        for (const line of lines) assert.doesNotMatch(line, ENGLISH_PROSE, line);
        await screenshot(page, `japanese-provider-settings-${width}`);

        // Every transport's form: labels and help in Japanese, none in English.
        const form = page.locator('form', { has: page.locator('#delivery-result') });
        const transports = await form
          .locator('select')
          .first()
          .locator('option')
          .evaluateAll((os) => os.map((o) => o.getAttribute('value') ?? ''));
        assert.deepEqual(transports, [...transports].sort());
        assert.ok(transports.length >= 6, transports.join());
        for (const transport of transports) {
          await form.locator('select').first().selectOption(transport);
          const fields = page.locator('#provider-fields .field');
          await fields.first().waitFor();
          const texts = await fields.evaluateAll((els) =>
            els.map((el) => ({
              label: el.querySelector('label')?.textContent ?? '',
              hint: el.querySelector('.hint')?.textContent ?? '',
            })),
          );
          for (const { label, hint } of texts) {
            assert.doesNotMatch(label, ENGLISH_PROSE, `${transport}: ${label}`);
            assert.ok(hint, `${transport}: ${label} has no help`);
            assert.doesNotMatch(hint, ENGLISH_PROSE, `${transport}: ${label}: ${hint}`);
          }
        }
        // The SMTP form's labels are the words listmonk's Japanese screens use.
        await form.locator('select').first().selectOption('smtp');
        for (const label of ['ホスト', 'ポート', 'ユーザー名', 'パスワード']) {
          await page.getByLabel(label, { exact: true }).waitFor();
        }
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }

  test('in English the API’s own explanation stays', async () => {
    const { context, page } = await openConsole(f, {
      lang: 'en',
      hash: `#/t/${f.tenant.id}/sending`,
    });
    try {
      await saveProviderSettings(page, 'mailgun', { apiKey: 'k', domain: 'x' });
      const detail = await page.locator('#delivery-result .error-detail').allTextContents();
      assert.deepEqual(detail, ['domain must be a domain name such as mg.example.com']);
      const blocks = (await page.locator('#paste-blocks').textContent()) ?? '';
      assert.match(blocks, /smtp:\/\/USERNAME:PASSWORD@/);
    } finally {
      await context.close();
    }
  });
});
