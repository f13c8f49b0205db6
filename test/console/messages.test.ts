/**
 * The Messages screen in Chromium: subjects written as RFC 2047 encoded-words (Japanese
 * newsletters in UTF-8, ISO-2022-JP, Shift_JIS and EUC-JP) are shown decoded, in the list
 * and the detail, and the API keeps the raw one; "Show more" adds the next page once and
 * only while there is one.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { op } from '../support/relay';
import { screenshot } from './browser';
import {
  consoleFixture,
  goTo,
  newsletterWithSubject,
  openConsole,
  sendAll,
  type Lang,
} from './console-fixture';

const NEWS = '日本語のお知らせ';
/** Subject fields as Japanese newsletters write them, and what a reader should see. */
const SUBJECTS: [string, string][] = [
  ['UTF-8 B: =?UTF-8?B?5pel5pys6Kqe44Gu44GK55+l44KJ44Gb?=', `UTF-8 B: ${NEWS}`],
  [
    'JIS: =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\r\n =?ISO-2022-JP?B?GyRCJE4kKkNOJGkkOxsoQg==?=',
    `JIS: ${NEWS}`,
  ],
  ['SJIS Q: =?Shift_JIS?Q?=93=FA=96{=8C=EA=82=CC=82=A8=92m=82=E7=82=B9?=', `SJIS Q: ${NEWS}`],
  ['EUC: =?EUC-JP?B?xvzL3LjspM6kqsPOpOmkuw==?=', `EUC: ${NEWS}`],
  ['Broken: =?x-unknown?B?5pel?= stays', 'Broken: =?x-unknown?B?5pel?= stays'],
];
const PLAIN = 50;
const PAGE = 50;

const rows = (page: Page) => page.locator('#message-list tbody tr');
const moreButton = (page: Page) => page.locator('#message-list ~ button');
const links = (page: Page) =>
  page.locator('#message-list tbody a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));

describe('console Messages: decoded subjects and "Show more"', { timeout: 240_000 }, () => {
  const f = consoleFixture();
  let japaneseIds: string[] = [];

  before(async () => {
    const plain = Array.from({ length: PLAIN }, (_, n) => newsletterWithSubject(`Plain ${n}`));
    await sendAll(f, plain);
    // Sent last, so they are the newest: on the first page.
    japaneseIds = await sendAll(
      f,
      SUBJECTS.map(([field]) => newsletterWithSubject(field)),
    );
  });

  test('the API gives the decoded subject and keeps the raw one', async () => {
    for (const [i, id] of japaneseIds.entries()) {
      const m = await f.app.request('GET', `/v1/tenants/${f.tenant.id}/messages/${id}`, op);
      assert.equal(m.status, 200, m.text);
      assert.equal(m.json.subject, SUBJECTS[i][1]);
      assert.equal(m.json.subjectRaw, SUBJECTS[i][0].replace('\r\n', ''));
    }
    const list = await f.app.request('GET', `/v1/tenants/${f.tenant.id}/messages?limit=5`, op);
    const shown = list.json.items.map((m: { subject: string }) => m.subject).sort();
    assert.deepEqual(shown, SUBJECTS.map(([, s]) => s).sort());
  });

  for (const [lang, width] of [
    ['en', 1280],
    ['ja', 390],
  ] as [Lang, number][]) {
    test(`subjects are decoded in the list and the detail: ${lang}, ${width} px`, async () => {
      const { context, page, problems } = await openConsole(f, {
        lang,
        width,
        hash: `#/t/${f.tenant.id}/messages`,
      });
      try {
        await rows(page).first().waitFor();
        for (const [, shown] of SUBJECTS) {
          await page.locator('#message-list td').getByText(shown, { exact: true }).waitFor();
        }
        const listText = (await page.locator('#message-list').textContent()) ?? '';
        assert.ok(!listText.includes('=?UTF-8?'), 'a raw encoded-word in the list');
        assert.ok(!listText.includes('=?ISO-2022-JP?'), 'a raw encoded-word in the list');
        await screenshot(page, `messages-decoded-${lang}-${width}`);

        await goTo(page, `#/t/${f.tenant.id}/messages/${japaneseIds[1]}`);
        await page.locator('#message-state').waitFor();
        await page.locator('.facts dd').getByText(`JIS: ${NEWS}`, { exact: true }).waitFor();
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test(`"Show more" adds the next page once, then hides: ${lang}, ${width} px`, async () => {
      const { context, page, problems } = await openConsole(f, {
        lang,
        width,
        hash: `#/t/${f.tenant.id}/messages`,
      });
      try {
        await rows(page).first().waitFor();
        assert.equal(await rows(page).count(), PAGE);
        assert.ok(await moreButton(page).isVisible(), 'there is a next page');
        await moreButton(page).click();
        await rows(page).nth(PAGE).waitFor();
        const total = PLAIN + SUBJECTS.length;
        assert.equal(await rows(page).count(), total);
        assert.equal(await moreButton(page).isVisible(), false, 'no next page: no "Show more"');
        // Even a click that reaches the hidden button adds nothing.
        await moreButton(page).dispatchEvent('click');
        await page
          .locator('#message-list ~ button:not([aria-busy])')
          .waitFor({ state: 'attached' });
        const hrefs = await links(page);
        assert.equal(hrefs.length, total);
        assert.equal(new Set(hrefs).size, total, 'a message is listed twice');

        // A filter with fewer messages than a page: no "Show more".
        await page.locator('#state-filter').selectOption('failed');
        await page.locator('#message-list p').waitFor();
        assert.equal(await moreButton(page).isVisible(), false);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }
});
