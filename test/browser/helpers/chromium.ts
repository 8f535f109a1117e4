// Debian's Chromium through playwright-core (RECIPES.md "Browser tests"); the machine's network is
// closed, so everything that would phone home is switched off.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors, page errors and any request that left the control plane. */
  problems: string[];
}

/**
 * A fresh context and page at `origin + path`, watching for what a page of ours must never do:
 * log an error, throw, or fetch from anywhere but the control plane. `beforeGoto` runs on the
 * page first (e.g. to inject a stand-in wallet).
 */
export async function openPage(
  browser: Browser,
  origin: string,
  path: string,
  options: Parameters<Browser['newContext']>[0] = {},
  beforeGoto?: (page: Page) => Promise<void>,
): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('request', (r) => {
    if (!r.url().startsWith(origin)) problems.push(`request outside the control plane: ${r.url()}`);
  });
  if (beforeGoto) await beforeGoto(page);
  await page.goto(origin + path, { waitUntil: 'load' });
  return { context, page, problems };
}
