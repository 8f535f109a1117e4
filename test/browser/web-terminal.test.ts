import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templateById } from '../../workers/templates/templates.ts';
import { startStandIn, stopStandIns } from '../support/template-stand-in.ts';
import { launchChromium, openPage } from './helpers/chromium.ts';

// The shell template's SIMULATED web terminal page in Chromium (workers/templates/
// simulated-server.ts): the stand-in started as the process runtime starts it, under a base path
// as behind the gateway; a person types a command and reads its output. Its inline script opens
// the WebSocket to the page's own URL + /ws with the page's token, so this is that script run.

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  stopStandIns();
});

describe('the SIMULATED web terminal page', () => {
  it('runs what is typed in the replica directory and shows its output and exit', async () => {
    const { base, dir } = await startStandIn(templateById('shell')!, 'browser-token', '/e/ep_browser/');
    const { context, page, problems } = await openPage(browser, base, '/e/ep_browser/terminals/1?token=browser-token');
    await expect.poll(() => page.locator('h1').textContent()).toBe('SIMULATED shell');
    await expect.poll(() => page.locator('#out').textContent()).toContain('SIMULATED shell (process runtime)');
    await page.locator('#cmd').fill('echo hello-$((6*7)); pwd');
    await page.locator('#cmd').press('Enter');
    await expect.poll(() => page.locator('#out').textContent()).toContain(`hello-42\n${dir}\n[exit 0]`);
    await page.locator('#cmd').fill('echo oops >&2; exit 7');
    await page.locator('#cmd').press('Enter');
    await expect.poll(() => page.locator('#out .err').last().textContent()).toBe('oops\n');
    await expect.poll(() => page.locator('#out').textContent()).toContain('[exit 7]');
    expect(problems).toEqual([]);
    await context.close();
  });
});
