import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Cookie, type Page } from 'playwright-core';
import { onTestFailed } from 'vitest';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { Api, seed, type Seeded } from './seed.js';

export const CHROMIUM = '/usr/bin/chromium';
export const RESULTS = path.join(ROOT, 'test-results', 'browser');
export const ADMIN = { email: 'operator@verity.test', password: 'correct horse battery staple' };
const API_KEY = 'sk_browser_test_0123456789abcdef';

/** Whether these tests can run here; when they cannot, why (printed), and whether that is a failure. */
export function chromiumStatus(): { run: boolean; reason?: string } {
  if (existsSync(CHROMIUM)) return { run: true };
  const reason = `${CHROMIUM} is missing (apt-get install chromium)`;
  if (process.env.VERITY_REQUIRE_CHROMIUM === '1') return { run: true, reason };
  console.log(`Skipping browser tests: ${reason}. Set VERITY_REQUIRE_CHROMIUM=1 to make this a failure.`);
  return { run: false, reason };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds web/dist when it is missing or older than its sources (CI runs the tests without `npm run build`). */
export function ensureWebBuild(): void {
  const index = path.join(ROOT, 'web', 'dist', 'index.html');
  const sources = Math.max(newestMtime(path.join(ROOT, 'web', 'src')), statSync(path.join(ROOT, 'web', 'index.html')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'error'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
}

export interface Ui {
  server: ServerProcess;
  /** The server's public URL: portal links point here, so the browser uses it for everything. */
  url: string;
  api: Api;
  seeded: Seeded;
  browser: Browser;
  /** The operator session of the first signIn(), reused by later ones (sign-ins are limited to 10 a minute). */
  operatorCookies?: Cookie[];
  stop(): Promise<void>;
}

export async function startUi(extraEnv: Record<string, string> = {}): Promise<Ui> {
  ensureWebBuild();
  mkdirSync(RESULTS, { recursive: true });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'verity-browser-'));
  const server = await startServerProcess(
    {
      VERITY_DATA_DIR: dataDir,
      DATABASE_URL: '',
      VERITY_ADMIN_EMAIL: ADMIN.email,
      VERITY_ADMIN_PASSWORD: ADMIN.password,
      VERITY_BOOTSTRAP_API_KEY: API_KEY,
      VERITY_ALLOW_PRIVATE_DESTINATIONS: 'true',
      VERITY_BRAND_NAME: 'Northwind',
      ...extraEnv,
    },
    120_000,
  );
  // VERITY_PUBLIC_URL defaults to http://localhost:<port>; cookies and links must share that origin.
  const url = server.url.replace('127.0.0.1', 'localhost');
  const api = new Api(server.url, API_KEY);
  const seeded = await seed(api);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage', '--disable-component-update', '--no-first-run'],
  });
  return {
    server,
    url,
    api,
    seeded,
    browser,
    async stop() {
      await browser.close().catch(() => undefined);
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Session {
  context: BrowserContext;
  page: Page;
  /** Saves the screenshot and fails on any console error not expected by this test. */
  finish(): Promise<void>;
}

/**
 * A fresh browser context that records console errors and uncaught exceptions. `expected` lists errors
 * the test provokes on purpose (e.g. the 403 of a refused request), matched against "text @ url".
 */
export async function openSession(ui: Ui, name: string, expected: RegExp[] = [], options: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {}): Promise<Session> {
  const context = await ui.browser.newContext({ viewport: options.viewport ?? { width: 1440, height: 900 }, colorScheme: options.colorScheme ?? 'light', acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  const record = (message: ConsoleMessage) => {
    if (message.type() !== 'error') return;
    const line = `${message.text()} @ ${message.location().url}`;
    if (!expected.some((pattern) => pattern.test(line))) errors.push(line);
  };
  page.on('console', record);
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  // A failed test leaves evidence (CI keeps only the log): a screenshot, and whether the page still
  // renders frames, which tells a hung renderer from a page in the wrong state.
  onTestFailed(async () => {
    const shot = path.join(RESULTS, `FAILED-${name}.png`);
    await page.screenshot({ path: shot, timeout: 5_000 }).catch(() => undefined);
    const probe = await Promise.race([
      page.evaluate(() => new Promise<string>((resolve) => requestAnimationFrame(() => resolve(`frames render; visibility ${document.visibilityState}`)))),
      new Promise<string>((resolve) => setTimeout(() => resolve('no animation frame within 3 s'), 3_000)),
    ]).catch((error: unknown) => `probe failed: ${String(error)}`);
    console.log(`[browser] ${name} failed at ${page.url()}: ${probe}; screenshot ${shot}; console errors: ${errors.join(' | ') || 'none'}`);
    await context.close().catch(() => undefined);
  });
  return {
    context,
    page,
    async finish() {
      await page.screenshot({ path: path.join(RESULTS, `${name}.png`), fullPage: false });
      await context.close();
      if (errors.length > 0) throw new Error(`console errors in ${name}:\n${errors.join('\n')}`);
    },
  };
}

/**
 * Signs in through the real form (the session probe before it answers 200 {signed_in: false}: no console
 * error) the first time; later calls reuse that session's cookie, since the server allows 10 sign-ins a
 * minute per address and the file runs more tests than that in a minute. A session that ended falls back
 * to the form.
 */
export async function signIn(ui: Ui, page: Page, path = '/dashboard'): Promise<void> {
  if (ui.operatorCookies !== undefined) {
    await page.context().addCookies(ui.operatorCookies);
    await page.goto(`${ui.url}${path}`);
    const signedIn = await Promise.race([
      page
        .getByRole('navigation', { name: 'Main' })
        .waitFor()
        .then(() => true)
        .catch(() => false),
      page
        .getByRole('button', { name: 'Sign in' })
        .waitFor()
        .then(() => false)
        .catch(() => false),
    ]);
    if (signedIn) return;
  } else {
    await page.goto(`${ui.url}${path}`);
  }
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  ui.operatorCookies = await page.context().cookies();
}

export async function portalLink(ui: Ui, organization: string, intent: 'audit_logs' | 'log_streams', embed = false): Promise<string> {
  const { link } = await ui.api.call<{ link: string }>('POST', '/portal/generate_link', { organization, intent, ...(embed ? { embed: true } : {}) });
  return link;
}
