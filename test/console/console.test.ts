/**
 * The admin console in a real browser (Debian's Chromium through playwright-core) against
 * the whole relay on loopback, with PostgreSQL, Redis and an upstream SMTP sink: the five
 * steps of the issue, the security headers, Japanese text, and tenant isolation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_TOKEN, startApp, type TestApp } from '../support/app';
import { eventually, op, queuedId, submit, submitter } from '../support/relay';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { freePort } from '../helpers/ports';
import { createTestPki, P12_PASSWORD, type TestPki } from '../helpers/pki';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { launchChromium, screenshot, watchProblems } from './browser';

/** The page's globals, for functions that run in the browser (these tests have no DOM types). */
interface BrowserGlobals {
  DataTransfer: new () => { items: { add(file: File): void } };
  sessionStorage: { length: number };
  document: { documentElement: { scrollWidth: number } };
}

const NEWSLETTER = Buffer.from(
  [
    'From: Console News <news@example.com>',
    'To: reader@example.net',
    'Subject: Sent through the console test',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello from the relay.',
    '',
  ].join('\r\n'),
);

describe('admin console in Chromium', { timeout: 240_000 }, () => {
  let app: TestApp;
  let sink: SmtpSink;
  let receiver: WebhookReceiver;
  let pki: TestPki;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let tenantId = '';
  let smtpCreds = { username: '', password: '' };

  before(async () => {
    browser = await launchChromium();
    pki = await createTestPki();
    sink = await startSink();
    receiver = await startReceiver();
    app = await startApp({ SMTP_PORT: String(await freePort()), WEBHOOK_ALLOW_PRIVATE: 'true' });
    context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1100, height: 800 } });
    page = await context.newPage();
    problems = watchProblems(page);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await sink?.stop();
    await receiver?.close();
  });

  test('/console is served with a strict CSP, no inline code and no secrets', async () => {
    const res = await fetch(`${app.url}/console`);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    const html = await res.text();
    assert.doesNotMatch(html, /<script>|<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son\w+=/i);
    assert.ok(!html.includes(ADMIN_TOKEN));
    const js = await fetch(`${app.url}/console/app.js`);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.ok(js.headers.get('content-security-policy'));
    const escape = await fetch(`${app.url}/console/..%2Fconsole.module.ts`);
    assert.equal(escape.status, 404);
  });

  test('1. the operator signs in and creates a tenant', async () => {
    await page.goto(`${app.url}/console`);
    // By keyboard: type the token and press Enter.
    await page.getByLabel('Operator token or tenant API key').fill(ADMIN_TOKEN);
    await page.getByLabel('Operator token or tenant API key').press('Enter');
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Console News');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('heading', { name: 'Certificates · Console News' }).waitFor();
    tenantId = /#\/t\/([0-9a-f-]{36})\//.exec(page.url())?.[1] ?? '';
    assert.ok(tenantId, page.url());
    const listed = await app.request('GET', '/v1/tenants', op);
    assert.deepEqual(
      listed.json.map((t: { name: string }) => t.name),
      ['Console News'],
    );
    assert.ok(!page.url().includes(ADMIN_TOKEN), 'the token must never be in the URL');
    await screenshot(page, '1-tenant-created');
  });

  test('2. a good .p12 is stored; a web-server certificate is refused in plain words', async () => {
    await page.getByLabel('Or choose files').setInputFiles(pki.identities.rsa2048.p12Path!);
    await page.getByLabel('Password', { exact: true }).fill(P12_PASSWORD);
    await page.getByRole('button', { name: 'Upload' }).click();
    const list = page.locator('#certificate-list');
    await list.getByText('news@example.com, info@example.com').waitFor();
    assert.equal(await list.locator('.badge.ok').count(), 1, 'days left in the ok colour');
    await screenshot(page, '2-certificate-stored');

    // The bad one arrives by drag and drop.
    const p12 = pki.identities.serverAuthOnly.p12!.toString('base64');
    const dataTransfer = await page.evaluateHandle((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new (globalThis as unknown as BrowserGlobals).DataTransfer();
      dt.items.add(new File([bytes], 'web-server.p12'));
      return dt;
    }, p12);
    await page.dispatchEvent('#dropzone', 'drop', { dataTransfer });
    await page.getByText('web-server.p12').waitFor();
    await page.getByLabel('Password', { exact: true }).fill(P12_PASSWORD);
    await page.getByRole('button', { name: 'Upload' }).click();
    const error = page.locator('#upload-result .error-words');
    await error.waitFor();
    assert.equal(
      await error.textContent(),
      'This certificate is for web servers, not email (certificate_wrong_purpose)',
    );
    const stored = await app.request('GET', `/v1/tenants/${tenantId}/certificates`, op);
    assert.equal(stored.json.length, 1);
    await screenshot(page, 'certificates', true);
  });

  test('3. delivery to the sink is set and checked; SMTP credentials are created', async () => {
    await page.getByRole('link', { name: 'Sending setup', exact: true }).click();
    await page.getByLabel('SMTP host').fill('127.0.0.1');
    await page.getByLabel('Port', { exact: true }).fill(String(sink.port));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#delivery-result').getByText('Saved.').waitFor();
    await page.getByRole('button', { name: 'Test the connection' }).click();
    await page.locator('#delivery-result').getByText('accepted the connection').waitFor();

    // The transit-check box: no check yet; running one without a seed mailbox says why.
    await page.locator('#transit-latest').getByText('No transit check yet.').waitFor();
    await page.getByRole('button', { name: 'Run a check now' }).click();
    await page.locator('#transit-latest').getByText('no seed mailbox yet').waitFor();

    await page.getByRole('button', { name: 'Create SMTP credentials' }).click();
    const shown = page.locator('#new-credential');
    await shown.getByText('shown only once').waitFor();
    smtpCreds = {
      username: await shown.getByLabel('Username').inputValue(),
      password: await shown.getByLabel('Password').inputValue(),
    };
    assert.ok(smtpCreds.username && smtpCreds.password.length >= 16);
    await page.locator('#credential-list').getByText(smtpCreds.username).waitFor();
    const dsn = `smtp://${encodeURIComponent(smtpCreds.username)}:${encodeURIComponent(
      smtpCreds.password,
    )}@127.0.0.1:${app.smtpPort}`;
    await page.locator('#paste-blocks').getByText(dsn).waitFor();

    // The listmonk postback messenger: its URL and login, shown once, and the login works.
    await page.getByLabel('listmonk root URL').fill('https://lists.example.com');
    await page.getByRole('button', { name: 'Create postback settings' }).click();
    const postback = page.locator('#postback-result');
    await postback.getByText('shown only once').waitFor();
    assert.match(
      await postback.getByLabel('Postback URL').inputValue(),
      /^http:\/\/[^/]+\/v1\/inbound\/listmonk$/,
    );
    const login = `${await postback.getByLabel('Username').inputValue()}:${await postback
      .getByLabel('Password')
      .inputValue()}`;
    const probe = await fetch(`${app.url}/v1/inbound/listmonk`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(login).toString('base64')}`,
      },
      body: JSON.stringify({ recipients: [] }),
    });
    assert.equal(probe.status, 400, 'the login is accepted; only the empty payload is refused');
    await screenshot(page, '3-smtp-credentials');
  });

  test('4. a message sent through SMTP shows up as delivered', async () => {
    const client = submitter(app.smtpPort!, smtpCreds);
    const id = queuedId(await submit(client, NEWSLETTER));
    client.close();
    await page.getByRole('link', { name: 'Messages', exact: true }).click();
    const row = page.locator('#message-list tr', { hasText: 'Sent through the console test' });
    await row.getByText('Delivered').waitFor({ timeout: 30_000 });
    await sink.waitFor(1);
    await screenshot(page, 'messages');
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: 'Attempts' }).waitFor();
    assert.ok(page.url().endsWith(`/messages/${id}`));
    const attempts = page.locator('section', { hasText: 'Upstream reply' }).locator('tbody tr');
    assert.equal(await attempts.count(), 1);
    assert.match((await attempts.textContent()) ?? '', /250/);
    await screenshot(page, '4-message-detail');
  });

  test('a refused message is listed as failed, explained, and retried', async () => {
    sink.reply = () => ({ code: 550, text: '5.1.1 no such mailbox' });
    const client = submitter(app.smtpPort!, smtpCreds);
    const raw = Buffer.from(NEWSLETTER.toString().replace('console test', 'refused test'));
    const id = queuedId(await submit(client, raw));
    client.close();
    await page.getByRole('link', { name: 'Messages', exact: true }).click();
    await page.getByLabel('State').selectOption('failed');
    const row = page.locator('#message-list tr', { hasText: 'Sent through the refused test' });
    // The list refreshes only while something is on its way; refresh by hand until it failed.
    for (let i = 0; i < 60 && (await row.count()) === 0; i++) {
      await page.waitForTimeout(500);
      await page.getByRole('button', { name: 'Refresh' }).click();
    }
    await row.getByText('Failed').waitFor();
    assert.equal(await page.locator('#message-list tbody tr').count(), 1, 'only failed ones');
    await row.getByRole('link').click();
    await page
      .getByText('The upstream refused the message (delivery_rejected)', { exact: true })
      .waitFor();
    await page.getByText('5.1.1 no such mailbox').first().waitFor();
    sink.reply = () => undefined;
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.getByText('Queued again.').waitFor();
    await eventually(
      async () => {
        const m = await app.request('GET', `/v1/tenants/${tenantId}/messages/${id}`, op);
        return m.json.state === 'delivered' ? true : undefined;
      },
      30_000,
      'the retried message delivered',
    );
    assert.equal(sink.messages.length, 2);
    await screenshot(page, 'message-retried');
  });

  test('try it: sign a pasted message, download it and read the report', async () => {
    await page.getByRole('link', { name: 'Try it', exact: true }).click();
    await page.getByRole('button', { name: 'Sign and verify' }).click();
    await page.locator('#verify-report').getByText('The signature is valid').waitFor();
    const href = await page.locator('#download').getAttribute('href');
    assert.match(href ?? '', /^blob:/);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#download').click(),
    ]);
    assert.equal(download.suggestedFilename(), 'signed.eml');
    await screenshot(page, 'try-it');
  });

  test('webhooks: subscribe, see the secret once, send a test, read the log', async () => {
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await page.getByLabel('Receiver URL').fill(receiver.url);
    await page.getByRole('button', { name: 'Subscribe' }).click();
    const secret = await page.locator('#webhook-created').getByLabel('Signing secret').inputValue();
    assert.match(secret, /^whsec_/);
    await page.getByRole('button', { name: 'Send a test' }).click();
    await page.getByText(/The receiver answered 200/).waitFor();
    assert.equal(receiver.ofType('webhook.test').length, 1);
    await page.getByRole('button', { name: 'Delivery log' }).click();
    await page.locator('#webhook-list').getByText('webhook.test').waitFor();
    await screenshot(page, 'webhooks');
  });

  test('the operator dashboard counts messages per state', async () => {
    await page.getByRole('link', { name: 'Tenants', exact: true }).click();
    const delivered = page.locator('.stat.state-delivered .n');
    await delivered.waitFor();
    assert.equal(await delivered.textContent(), '2');
    await screenshot(page, 'dashboard');
  });

  test('5. with tenant A’s key, tenant B cannot be seen', async () => {
    // The operator makes an API key for A in the console; B is made through the API.
    await page.goto(`${app.url}/console#/t/${tenantId}/keys`);
    await page.getByRole('button', { name: 'Create API key' }).click();
    const key = await page.locator('#new-key').getByLabel('API key').inputValue();
    assert.match(key, /^srk_/);
    const b = await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Other Tenant' } });
    assert.equal(b.status, 201);

    const tenantContext = await browser.newContext({ locale: 'en-US' });
    const tp = await tenantContext.newPage();
    const tenantProblems = watchProblems(tp);
    await tp.goto(`${app.url}/console`);
    await tp.getByLabel('Operator token or tenant API key').fill(key);
    await tp.getByRole('button', { name: 'Sign in' }).click();
    await tp.getByRole('heading', { name: 'Certificates · Console News' }).waitFor();
    const options = await tp.locator('#tenant-picker option').allTextContents();
    assert.deepEqual(options, ['Console News']);
    assert.equal(await tp.getByRole('link', { name: 'Tenants', exact: true }).count(), 0);

    await tp.goto(`${app.url}/console#/t/${b.json.id}/certificates`);
    await tp.getByText('Not found, or not yours to see (not_found)').waitFor();
    assert.ok(!(await tp.content()).includes('Other Tenant'));
    assert.ok(!tp.url().includes(key));
    await screenshot(tp, '5-other-tenant-not-found');

    await tp.getByRole('button', { name: 'Sign out' }).click();
    await tp.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(
      await tp.evaluate(() => (globalThis as unknown as BrowserGlobals).sessionStorage.length),
      0,
    );
    assert.deepEqual(tenantProblems, []);
    await tenantContext.close();
  });

  test('Japanese browsers get Japanese text and errors in plain Japanese', async () => {
    const jaContext = await browser.newContext({
      locale: 'ja-JP',
      viewport: { width: 1100, height: 800 },
    });
    const jp = await jaContext.newPage();
    await jp.goto(`${app.url}/console`);
    await jp.getByRole('button', { name: 'サインイン' }).waitFor();
    assert.equal(await jp.locator('html').getAttribute('lang'), 'ja');
    await jp.getByLabel('運用者トークンまたはテナント API キー').fill('srk_not-a-real-key');
    await jp.getByRole('button', { name: 'サインイン' }).click();
    await jp.getByText('このトークンまたは API キーは受け付けられません (unauthorized)').waitFor();
    await jp.getByLabel('運用者トークンまたはテナント API キー').fill(ADMIN_TOKEN);
    await jp.getByRole('button', { name: 'サインイン' }).click();
    await jp.getByRole('heading', { name: 'テナント', level: 1 }).waitFor();
    await jp.getByRole('link', { name: 'Console News', exact: true }).click();
    await jp.getByRole('heading', { name: '証明書 · Console News' }).waitFor();
    await jp
      .locator('.badge.ok')
      .getByText(/あと \d+ 日/)
      .waitFor();
    await screenshot(jp, 'japanese', true);
    await jaContext.close();
  });

  test('a phone-sized screen gets one column and no page errors happened', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto(`${app.url}/console#/t/${tenantId}/sending`);
    await page.getByRole('heading', { name: 'SMTP credentials' }).waitFor();
    const width = await page.evaluate(
      () => (globalThis as unknown as BrowserGlobals).document.documentElement.scrollWidth,
    );
    assert.ok(width <= 390, `the page is ${width}px wide on a 390px screen`);
    await screenshot(page, 'phone');
    assert.deepEqual(problems, []);
    await context.close();
  });
});
