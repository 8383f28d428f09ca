import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { simpleParser } from 'mailparser';
import { execFile } from 'node:child_process';
import { pickupPages } from '../../webmail/pages.ts';
import { consoleCode } from './console.ts';
import { startStack, type Stack, type StackOptions } from './stack.ts';

/**
 * Debian's Chromium driven by playwright-core, as a person uses the pickup app (STYLE.md "Tests"), and the
 * built pickup bundle to serve. `npm test` builds the bundle first (pretest); a single `npx mocha --spec`
 * builds it here when it is missing.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PICKUP_DIST = path.join(ROOT, 'webmail/pickup/dist');
export const CONSOLE_DIST = path.join(ROOT, 'webmail/console/dist');
export const SCREENSHOTS = path.join(ROOT, 'test-output/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let built: Promise<void> | undefined;

/**
 * The pickup bundle, built once per run when webmail/pickup/dist has none (`npm test` builds it first).
 * Built by the Vite CLI in a child process: inside mocha, tsx's loader hooks break Svelte's `.svelte.ts`.
 */
export function ensureBundle(): Promise<void> {
  const missing = [
    { dist: PICKUP_DIST, config: 'webmail/pickup/vite.config.ts' },
    { dist: CONSOLE_DIST, config: 'webmail/console/vite.config.ts' },
  ].filter((b) => !existsSync(path.join(b.dist, 'index.html')));
  if (missing.length === 0) return Promise.resolve();
  built ??= missing.reduce((before, b) => before.then(() => viteBuild(b.config)), Promise.resolve());
  return built;
}

function viteBuild(config: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', config, '--logLevel', 'error'],
      { cwd: ROOT, timeout: 300_000 },
      (err, _stdout, stderr) => (err ? reject(new Error(`vite build failed: ${stderr}`)) : resolve()),
    );
  });
}

/** The router that serves the built app, for startStack({ pages }). */
export async function pickupPagesForTest() {
  await ensureBundle();
  return pickupPages({ distDir: PICKUP_DIST, consoleDistDir: CONSOLE_DIST });
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * "Stack + Chromium" for one describe block: Chromium launched once for the block, a fresh stack serving the
 * built pickup app (startStack with `pages`) for every test, both closed afterwards. `use` receives them
 * before each test:
 *
 *   let browser: Browser;
 *   let stack: Stack;
 *   withBrowserStack(() => ({ kind }), (env) => ({ browser, stack } = env));
 */
export function withBrowserStack(
  options: () => Omit<StackOptions, 'pages'>,
  use: (env: { browser: Browser; stack: Stack }) => void,
): void {
  let browser: Browser | undefined;
  let stack: Stack | undefined;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    stack = await startStack({ ...options(), pages: await pickupPagesForTest() });
    use({ browser: browser!, stack });
  });
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });
}

export interface PageProblems {
  /** Uncaught exceptions and console errors in the page (CSP violations show up here). */
  errors: string[];
  /** Every URL the page requested. */
  requests: string[];
}

/** A fresh context (no shared cookies) with German or English, downloads allowed, problems recorded. */
export async function newPage(
  browser: Browser,
  options: { locale?: string; width?: number } = {},
): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
  const context = await browser.newContext({
    locale: options.locale ?? 'de-DE',
    acceptDownloads: true,
    viewport: { width: options.width ?? 1100, height: 900 },
  });
  const page = await context.newPage();
  const problems: PageProblems = { errors: [], requests: [] };
  page.on('pageerror', (e) => problems.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // An HTTP error status the app handles (401 wrong code, 410 expired) is logged by Chromium: not a fault.
    if (
      m.type() === 'error' &&
      !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())
    )
      problems.errors.push(`console: ${m.text()}`);
  });
  context.on('request', (r) => problems.requests.push(r.url()));
  return { context, page, problems };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/**
 * The link of the newest pickup to `to` (from the notification at the sink) and the contact's access code,
 * read where the practitioner reads it: in her console (test/helpers/console.ts; the receipt holds no code).
 */
export async function pickupLink(
  stack: { sink: { waitFor(n: number): Promise<{ to: string[]; raw: Buffer }[]> }; web: string },
  to: string,
  count = 2,
): Promise<{ link: string; id: string; code: string | undefined }> {
  const msgs = await stack.sink.waitFor(count);
  const notices = msgs.filter((m) => m.to[0] === to);
  const text = (await simpleParser(notices.at(-1)!.raw)).text ?? '';
  const link = /https?:\/\/\S+\/p\/([A-Za-z0-9_-]{22})/.exec(text);
  if (!link?.[1]) throw new Error('no pickup link in the notification');
  const code = await consoleCode(stack.web, to).catch(() => undefined);
  return { link: link[0], id: link[1], code };
}

/** Open `link`, type `code`, and wait for the inbox. */
export async function unlockInBrowser(page: Page, link: string, code: string): Promise<void> {
  await page.goto(link);
  await page.locator('#secret').fill(code);
  await page.keyboard.press('Enter');
  await page.locator('#inbox-title').waitFor();
}

/**
 * No serious or critical axe-core violation on the page as it is now (frames included), and axe did run: a
 * page that failed to load passes no rules at all.
 */
export async function accessible(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  assert.ok(result.passes.length > 10, `axe ran its rules on ${screen}`);
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `axe on ${screen}`,
  );
}
