/**
 * The console's daily-work screens in Chromium, in English at 1280 px and Japanese at
 * 390 px: searching messages (subject as read, recipient, Message-ID, days), the refusals at
 * intake with their codes and replies, the activity chart per hour and per day with its
 * figures, the certificate expiry timeline, and provider settings as forms drawn from the
 * fields each transport declares (a tenant sees only what it may change). axe-core finds no
 * serious or critical violation on any of them.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, op, submit, submitter } from '../support/relay';
import { createTestPki, P12_PASSWORD } from '../helpers/pki';
import { seriousViolations } from './axe';
import { screenshot } from './browser';
import {
  consoleFixture,
  newsletterWithSubject,
  openConsole,
  sendAll,
  type Lang,
} from './console-fixture';

const JAPANESE = '=?UTF-8?B?5pel5pys6Kqe44Gu44GK55+l44KJ44Gb?='; // 日本語のお知らせ

function withHeaders(subject: string, extra: string[]): Buffer {
  const raw = newsletterWithSubject(subject).toString('utf8');
  return Buffer.from(raw.replace('\r\n', `\r\n${extra.join('\r\n')}\r\n`));
}

const rows = (page: Page) => page.locator('#message-list tbody tr');

async function searchFor(page: Page, fields: Record<string, string>): Promise<void> {
  const form = page.locator('#message-search');
  await form.locator('button[type=reset]').click();
  for (const [id, value] of Object.entries(fields)) await page.locator(`#${id}`).fill(value);
  await form.locator('button[type=submit]').click();
}

/** The rows' subjects once the list shows `count` rows (or the "no match" line for 0). */
async function subjectsShown(page: Page, count: number): Promise<string[]> {
  if (count === 0) {
    await page.locator('#message-list p').waitFor();
    assert.equal(await rows(page).count(), 0);
    return [];
  }
  await page.waitForFunction(
    (n) =>
      (
        globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
      ).document.querySelectorAll('#message-list tbody tr').length === n,
    count,
  );
  return rows(page).evaluateAll((trs) =>
    trs.map((tr) => tr.querySelectorAll('td')[3]?.textContent?.trim() ?? ''),
  );
}

describe('console: search, refusals, charts and provider forms', { timeout: 300_000 }, () => {
  const f = consoleFixture();
  let tenantKey = '';
  let signedTotal = 0;

  before(async () => {
    await sendAll(f, [
      withHeaders('Weekly news', ['Message-ID: <weekly-1@example.com>']),
      withHeaders(JAPANESE, ['Message-ID: <ja-1@example.com>']),
      newsletterWithSubject('Another issue'),
    ]);
    // One message goes to a second recipient only, to find by recipient.
    const client = submitter(f.app.smtpPort!, f.tenant, 1);
    try {
      await submit(client, newsletterWithSubject('For Tanaka'), {
        from: 'bounces@example.com',
        to: ['tanaka@example.jp'],
      });
      // Refused: a From no certificate of the tenant names.
      await submit(
        client,
        Buffer.from(
          newsletterWithSubject('Lookalike invoice')
            .toString()
            .replace('news@example.com', 'billing@examp1e.com'),
        ),
      ).then(
        () => assert.fail('a From outside the certificate was accepted'),
        () => undefined,
      );
    } finally {
      client.close();
    }
    // Every accepted message signed and delivered: four (the refused one never was a message).
    signedTotal = await eventually(
      async () => {
        const stats = await f.app.request('GET', `/v1/tenants/${f.tenant.id}/stats/messages`, op);
        return stats.json.totals.signed === 4 ? 4 : undefined;
      },
      30_000,
      'four signed deliveries',
    );
    const key = await f.app.request('POST', `/v1/tenants/${f.tenant.id}/api-keys`, {
      ...op,
      body: { label: 'forms' },
    });
    assert.equal(key.status, 201, key.text);
    tenantKey = key.json.key;
  });

  for (const [lang, width] of [
    ['en', 1280],
    ['ja', 390],
  ] as [Lang, number][]) {
    test(`messages: search, activity and refusals (${lang}, ${width} px)`, async () => {
      const { context, page, problems } = await openConsole(f, {
        lang,
        width,
        hash: `#/t/${f.tenant.id}/messages`,
        bypassCSP: true,
      });
      try {
        await page.locator('#activity-chart figure').waitFor();
        await subjectsShown(page, 4);

        await searchFor(page, { 'search-subject': 'お知らせ' });
        assert.deepEqual(await subjectsShown(page, 1), ['日本語のお知らせ']);
        await searchFor(page, { 'search-recipient': 'TANAKA@' });
        assert.deepEqual(await subjectsShown(page, 1), ['For Tanaka']);
        await searchFor(page, { 'search-message-id': 'weekly-1@example.com' });
        assert.deepEqual(await subjectsShown(page, 1), ['Weekly news']);
        // Accepted until yesterday: nothing.
        const yesterday = new Date(Date.now() - 86_400_000);
        const ymd = `${yesterday.getFullYear()}-${String(yesterday.getMonth() + 1).padStart(2, '0')}-${String(yesterday.getDate()).padStart(2, '0')}`;
        await searchFor(page, { 'search-until': ymd });
        await subjectsShown(page, 0);
        await page.locator('#message-search button[type=reset]').click();
        await subjectsShown(page, 4);

        // The chart: the signed bars add up to the API's total, and so does the legend.
        const chart = page.locator('#activity-chart');
        assert.ok((await chart.locator('rect.bar-signed').count()) >= 1);
        const legend = (await chart.locator('.legend').textContent()) ?? '';
        assert.ok(legend.includes(`: ${signedTotal}`), legend);
        await chart.locator('summary').click();
        const figures = await chart.locator('details tbody tr').count();
        assert.ok(figures >= 1);
        // Per day: the last bucket is today.
        await page.locator('#activity-interval').selectOption('day');
        await page.waitForFunction(() => {
          const d = (globalThis as unknown as { document: { querySelector(s: string): unknown } })
            .document;
          return Boolean(d.querySelector('#activity-chart svg'));
        });

        // The refusal, with its code and the SMTP reply the platform got.
        const refusal = page.locator('#refusal-list tbody tr').first();
        await refusal.waitFor();
        const text = (await refusal.textContent()) ?? '';
        assert.ok(text.includes('550 5.7.1'), text);
        assert.ok(text.includes('(from_mismatch)'), text);
        assert.ok(text.includes('billing@examp1e.com'), text);

        assert.deepEqual(await seriousViolations(page, `messages ${lang}`), []);
        await screenshot(page, `messages-search-${lang}-${width}`);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test(`overview and certificates: activity, timeline, refusals (${lang}, ${width} px)`, async () => {
      const { context, page, problems } = await openConsole(f, {
        lang,
        width,
        hash: '#/tenants',
        bypassCSP: true,
      });
      try {
        await page.locator('#overall-chart figure').waitFor();
        const overview = await f.app.request('GET', '/v1/overview', op);
        const marks = page.locator('svg.timeline circle');
        assert.equal(await marks.count(), overview.json.certificateTimeline.length);
        assert.ok(overview.json.certificateTimeline.length >= 1);
        await page.locator('#all-refusals tbody tr').first().waitFor();
        assert.deepEqual(await seriousViolations(page, `overview ${lang}`), []);
        await screenshot(page, `overview-charts-${lang}-${width}`);

        await page.goto(`${f.app.url}/console#/t/${f.tenant.id}/certificates`);
        await page.locator('#certificate-timeline svg circle').first().waitFor();
        assert.deepEqual(await seriousViolations(page, `certificates ${lang}`), []);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }

  test('provider settings are a form: saved values come back, a secret stays kept', async () => {
    const { context, page, problems } = await openConsole(f, {
      lang: 'en',
      hash: `#/t/${f.tenant.id}/sending`,
      bypassCSP: true,
    });
    try {
      const before = await f.app.request('GET', `/v1/tenants/${f.tenant.id}/delivery`, op);
      const form = page.locator('form', { has: page.locator('#delivery-result') });
      await page.locator('#provider-fields').waitFor();
      // The saved SMTP settings are in the form.
      assert.equal(await form.locator('[name=setting-host]').inputValue(), before.json.host);
      assert.equal(
        await form.locator('[name=setting-port]').inputValue(),
        String(before.json.port),
      );
      await form.locator('[name="setting-auth-user"]').fill('relay-user');
      await form.locator('[name="setting-auth-pass"]').fill('s3cret-pass');
      await form.locator('[name=setting-maxConnections]').fill('3');
      await form.locator('button[type=submit]').click();
      await page.locator('#delivery-result .success').waitFor();
      const saved = await f.app.request('GET', `/v1/tenants/${f.tenant.id}/delivery`, op);
      assert.equal(saved.json.auth.user, 'relay-user');
      assert.equal(saved.json.auth.pass, '[redacted]');
      assert.equal(saved.json.maxConnections, 3);
      assert.equal(saved.json.host, before.json.host);

      // Again, without touching the password: it is kept, never shown.
      await page.reload();
      await page.locator('#provider-fields').waitFor();
      assert.equal(await form.locator('[name="setting-auth-pass"]').inputValue(), '[redacted]');
      await form.locator('[name="setting-auth-user"]').fill('');
      await form.locator('[name="setting-auth-pass"]').fill('');
      await form.locator('button[type=submit]').click();
      await page.locator('#delivery-result .success').waitFor();
      const back = await f.app.request('GET', `/v1/tenants/${f.tenant.id}/delivery`, op);
      assert.equal(back.json.auth, undefined);
      assert.deepEqual(await seriousViolations(page, 'sending'), []);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test("a tenant's form offers only what the tenant may choose", async () => {
    const { context, page, problems } = await openConsole(f, {
      lang: 'ja',
      token: tenantKey,
      hash: `#/t/${f.tenant.id}/sending`,
    });
    try {
      const form = page.locator('form', { has: page.locator('#delivery-result') });
      await page.locator('#provider-fields').waitFor();
      await form.locator('select').first().selectOption('sendgrid');
      const host = form.locator('[name=setting-host]');
      await host.waitFor();
      // The operator-only host is a choice of SendGrid's own relay, not a text box.
      assert.equal(await host.evaluate((el) => el.tagName), 'SELECT');
      assert.deepEqual(
        await host.locator('option').evaluateAll((os) => os.map((o) => o.textContent)),
        ['smtp.sendgrid.net'],
      );
      assert.equal(await form.locator('[name=setting-apiKey]').getAttribute('type'), 'password');
      await form.locator('[name=setting-apiKey]').fill('SG.test-key');
      await form.locator('button[type=submit]').click();
      await page.locator('#delivery-result .success').waitFor();
      const saved = await f.app.request('GET', `/v1/tenants/${f.tenant.id}/delivery`, op);
      assert.equal(saved.json.transport, 'sendgrid');
      assert.equal(saved.json.host, 'smtp.sendgrid.net');
      assert.equal(saved.json.apiKey, '[redacted]');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
      // Back to the loopback upstream for the other tests of this file.
      await f.app.request('PUT', `/v1/tenants/${f.tenant.id}/delivery`, {
        ...op,
        body: { transport: 'smtp', host: '127.0.0.1', port: f.sink.port, secure: false },
      });
    }
  });

  test('a certificate the lint finds problems in shows them, in both languages', async () => {
    // An address only in the subject, not in subjectAltName: accepted, with a warning.
    const pki = await createTestPki();
    const legacy = pki.identities.legacyEmail;
    const up = await f.app.request('POST', `/v1/tenants/${f.tenant.id}/certificates`, {
      ...op,
      body: { pkcs12: legacy.p12!.toString('base64'), password: P12_PASSWORD },
    });
    assert.equal(up.status, 201, up.text);
    const codes = up.json.lint.findings.map(
      (x: { code: string; severity: string }) => `${x.code}:${x.severity}`,
    );
    assert.ok(codes.includes('san_no_mailbox:warning'), codes.join());
    for (const lang of ['en', 'ja'] as Lang[]) {
      const { context, page, problems } = await openConsole(f, {
        lang,
        hash: `#/t/${f.tenant.id}/certificates`,
        bypassCSP: true,
      });
      try {
        const report = page.locator('#certificate-list details.lint').first();
        await report.waitFor();
        await report.locator('summary').click();
        const text = (await report.textContent()) ?? '';
        assert.ok(text.includes('san_no_mailbox'), text);
        assert.ok(text.includes('BR'), text);
        if (lang === 'ja') assert.ok(text.includes('S/MIME 基本要件'), text);
        else assert.ok(text.includes('subject alternative name'), text);
        assert.deepEqual(await seriousViolations(page, `certificates lint ${lang}`), []);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    }
    await f.app.request('DELETE', `/v1/tenants/${f.tenant.id}/certificates/${up.json.id}`, op);
  });
});
