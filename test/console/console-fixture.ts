/**
 * What the console's focused test files share: the relay on loopback with one tenant (a
 * certificate, an SMTP upstream sink, SMTP credentials) and Chromium, started once per file;
 * a signed-in page in a given language and width; and messages submitted over SMTP.
 */
import { after, before } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_TOKEN } from '../support/app';
import { eventually, queuedId, relayFixture, submit, submitter } from '../support/relay';
import type { RelayFixture } from '../support/relay';
import { launchChromium, watchProblems } from './browser';

export type Lang = 'en' | 'ja';
export const WIDTHS = [1280, 390] as const;
export const LANGS: Lang[] = ['en', 'ja'];

export interface ConsoleFixture extends RelayFixture {
  browser: Browser;
}

/** Registers before/after hooks: the relay, its tenant and upstream, and Chromium. */
export function consoleFixture(env: Record<string, string> = {}): ConsoleFixture {
  const fixture = relayFixture(env) as ConsoleFixture;
  before(async () => {
    fixture.browser = await launchChromium();
  });
  after(async () => {
    await fixture.browser?.close();
  });
  return fixture;
}

/** The page's globals, for functions that run in the browser (these tests have no DOM types). */
export interface PageGlobals {
  location: { hash: string };
  document: {
    activeElement: PageElement | null;
    documentElement: { scrollWidth: number };
  };
}
export interface PageElement {
  tagName: string;
  textContent: string | null;
  closest(selector: string): PageElement | null;
}

/** Go to a console screen the way a link does: by the hash. */
export async function goTo(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => {
    (globalThis as unknown as PageGlobals).location.hash = h;
  }, hash);
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Script errors and CSP violations seen on the page. */
  problems: string[];
}

/**
 * A new browser context in `lang` at `width` px, signed in with `token` (the operator's by
 * default) at `hash`. `bypassCSP` only for injecting test scripts such as axe-core.
 */
export async function openConsole(
  f: ConsoleFixture,
  o: { lang?: Lang; width?: number; token?: string; hash?: string; bypassCSP?: boolean } = {},
): Promise<ConsolePage> {
  const context = await f.browser.newContext({
    locale: o.lang === 'ja' ? 'ja-JP' : 'en-GB',
    viewport: { width: o.width ?? 1280, height: 900 },
    bypassCSP: o.bypassCSP ?? false,
  });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`${f.app.url}/console${o.hash ?? `#/t/${f.tenant.id}/certificates`}`);
  const token = page.locator('#main input[type=password]');
  await token.fill(o.token ?? ADMIN_TOKEN);
  await token.press('Enter');
  await page.locator('nav').waitFor();
  return { context, page, problems };
}

/** Submit raw messages as the fixture's tenant and wait until every one is in `state`. */
export async function sendAll(
  f: ConsoleFixture,
  raws: Buffer[],
  state: 'delivered' | 'failed' = 'delivered',
): Promise<string[]> {
  const client = submitter(f.app.smtpPort!, f.tenant, 4);
  let ids: string[];
  try {
    ids = await Promise.all(raws.map(async (raw) => queuedId(await submit(client, raw))));
  } finally {
    client.close();
  }
  await eventually(
    async () => {
      const rows = await f.app.db.session.query<{ n: string }>(
        'SELECT count(*) AS n FROM messages WHERE id = ANY ($1::uuid[]) AND state = $2',
        [ids, state],
      );
      return Number(rows[0].n) === ids.length ? true : undefined;
    },
    60_000,
    `${ids.length} messages ${state}`,
  );
  return ids;
}

/** A small plain-text newsletter with this subject (the header as written, 7-bit or not). */
export function newsletterWithSubject(subject: string | Buffer): Buffer {
  return Buffer.concat([
    Buffer.from('From: News <news@example.com>\r\nTo: reader@example.net\r\nSubject: '),
    Buffer.isBuffer(subject) ? subject : Buffer.from(subject),
    Buffer.from(
      '\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n',
    ),
  ]);
}
