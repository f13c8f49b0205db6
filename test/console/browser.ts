/**
 * Debian's Chromium driven by playwright-core, headless, for the console's end-to-end
 * tests; screenshots go to test-output/console/ (ignored by git), and also to docs/ when
 * CONSOLE_SCREENSHOTS_TO_DOCS=1.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS_DIR = join('test-output', 'console');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the console tests need Debian's Chromium. ` +
        'Install it with `apt-get install -y chromium` (.ci/run does this).',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Save a screenshot of the page as test-output/console/<name>.png (and docs/console-<name>.png). */
export async function screenshot(page: Page, name: string, forDocs = false): Promise<void> {
  mkdirSync(SHOTS_DIR, { recursive: true });
  await page.screenshot({ path: join(SHOTS_DIR, `${name}.png`), fullPage: true });
  if (forDocs && process.env.CONSOLE_SCREENSHOTS_TO_DOCS === '1') {
    mkdirSync('docs', { recursive: true });
    await page.screenshot({ path: join('docs', `console-${name}.png`), fullPage: true });
  }
}

/**
 * Collects what should never happen on a console page: script errors, and CSP violations
 * (which Chromium reports as console errors).
 */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  return problems;
}
