import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { untilClockPasses } from '../support/clock.ts';
import { repoRoot, startLocalStack, type LocalStack } from '../support/local-stack.ts';
import { launchChromium, openPage } from './helpers/chromium.ts';
import { seedAgent, type SeedAgent, type SeedNode } from './helpers/seed-agent.ts';

// The explorer as a person sees it: the real local control plane seeded by signed agents, opened
// in Chromium on a phone and a desktop, in light and dark, by keyboard and without JavaScript.
// Screenshots land in test-output/screenshots/ for a human to look at.

const SHOTS = join(repoRoot, 'test-output/screenshots');

const NODES: SeedNode[] = [
  {
    name: 'tokyo-a100',
    lat: 35.68,
    lon: 139.69,
    country: 'JP',
    gpus: [{ model: 'NVIDIA A100-SXM4-80GB', vramMb: 81920, count: 8 }],
    price: '2.10',
  },
  {
    name: 'frankfurt-4090',
    lat: 50.11,
    lon: 8.68,
    country: 'DE',
    gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 4 }],
    price: '1.20',
  },
  {
    name: 'virginia-h100',
    lat: 38.9,
    lon: -77.0,
    country: 'US',
    gpus: [{ model: 'NVIDIA H100 80GB HBM3', vramMb: 81559, count: 8 }],
    price: '3.50',
  },
  {
    name: 'saopaulo-3090',
    lat: -23.55,
    lon: -46.63,
    country: 'BR',
    gpus: [{ model: 'NVIDIA GeForce RTX 3090', vramMb: 24576, count: 2 }],
    price: '0.60',
  },
  {
    name: 'lagos-sim',
    lat: 6.52,
    lon: 3.38,
    country: 'NG',
    gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2, simulated: true }],
    price: '0.90',
  },
  {
    name: 'sydney-sim',
    lat: -33.87,
    lon: 151.21,
    country: 'AU',
    gpus: [{ model: 'NVIDIA L4', vramMb: 23034, count: 1, simulated: true }],
    price: '0.40',
  },
];
const GOES_OFFLINE: SeedNode = {
  name: 'mumbai-t4',
  lat: 19.07,
  lon: 72.88,
  country: 'IN',
  gpus: [{ model: 'Tesla T4', vramMb: 15360, count: 1 }],
  price: '0.30',
};
const LATE: SeedNode = {
  name: 'nairobi-late',
  lat: -1.29,
  lon: 36.82,
  country: 'KE',
  gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 1 }],
  price: '1.10',
};

let stack: LocalStack;
let browser: Browser;
let online: SeedAgent[] = [];
let offline: SeedAgent;
let beat: ReturnType<typeof setInterval> | undefined;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // Heartbeats every 3 s: a node silent for 9 s goes offline at the next sweep.
  [stack, browser] = await Promise.all([startLocalStack({ HEARTBEAT_INTERVAL_S: '3', EXPLORER_CACHE_S: '1' }), launchChromium()]);
  online = await Promise.all(NODES.map((n) => seedAgent(stack.url, n)));
  offline = await seedAgent(stack.url, GOES_OFFLINE);
  for (const agent of [...online, offline]) {
    await agent.register();
    await agent.heartbeat();
  }
  // The offline node's heartbeat, last in the loop, was its last: the sweep must come more than
  // 9 s after it, while the others keep beating. Wait for that instant, not a guessed duration.
  const offlineLastBeat = Date.now();
  beat = setInterval(() => void Promise.all(online.map((a) => a.heartbeat())).catch(() => undefined), 2_000);
  await untilClockPasses(offlineLastBeat + 9_000);
  await stack.runCron();
}, 180_000);

afterAll(async () => {
  clearInterval(beat);
  await browser?.close();
  await stack?.stop();
});

const open = (path: string, options: Parameters<Browser['newContext']>[0] = {}) => openPage(browser, stack.url, path, options);

const stat = (page: Page, key: string) => page.locator(`[data-stat="${key}"]`).first().textContent();

describe('the explorer at /', () => {
  it('shows totals, the map with real and simulated dots, a legend and the tables', async () => {
    const { context, page, problems } = await open('/');
    await expect(page.title()).resolves.toBe('gridplane explorer');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Network explorer');
    expect(await stat(page, 'nodesOnline')).toBe('6');
    expect(await stat(page, 'nodesNote')).toBe('1 offline · 2 simulated');
    expect(await stat(page, 'gpusOnline')).toBe('25');
    expect(await stat(page, 'jobsRunning')).toBe('0');
    expect(await page.locator('#dots circle').count()).toBe(6);
    expect(await page.locator('#dots circle.dot-sim').count()).toBe(2);
    await expect(page.getByText('Online simulated nodes (no real GPUs)').isVisible()).resolves.toBe(true);
    const countries = await page.getByRole('table', { name: 'Online nodes by country' }).locator('tbody th').allTextContents();
    expect(countries.sort()).toEqual(['Australia', 'Brazil', 'Germany', 'Japan', 'Nigeria', 'United States']);
    const sim4090 = page.getByRole('table', { name: /GPUs by model/ }).getByRole('row', { name: /RTX 4090/ });
    expect(await sim4090.locator('th').textContent()).toBe('RTX 4090 (2 simulated)');
    const a100 = page.getByRole('table', { name: /GPUs by model/ }).getByRole('row', { name: /A100 80GB/ });
    expect(await a100.locator('td').allTextContents()).toEqual(['8', '1', '2.10']);
    // The seeding ran the cron, which may already have closed the previous hour's epoch.
    await expect(page.getByRole('heading', { name: 'Rewards, burn and emission' }).isVisible()).resolves.toBe(true);
    await expect(page.getByText(/No open proposals/).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(SHOTS, 'explorer-light-desktop.png'), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('fits a phone and reads in dark mode', async () => {
    const { context, page, problems } = await open('/', {
      viewport: { width: 390, height: 844 },
      colorScheme: 'dark',
      isMobile: true,
      hasTouch: true,
    });
    const colours = await page.evaluate(() => ({
      bg: getComputedStyle(document.body).backgroundColor,
      fg: getComputedStyle(document.body).color,
    }));
    expect(colours).toEqual({ bg: 'rgb(15, 18, 22)', fg: 'rgb(232, 234, 237)' });
    // Nothing wider than the screen: tables scroll inside their own regions.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.locator('#dots circle').count()).toBe(6);
    await page.screenshot({ path: join(SHOTS, 'explorer-dark-phone.png'), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('is usable by keyboard: skip link first, visible focus, node links reachable', async () => {
    const { context, page } = await open('/');
    const focused: { text: string; href: string | null; outline: string }[] = [];
    // Tab through the whole page, until focus leaves it for the browser's own UI.
    for (let i = 0; i < 100; i++) {
      await page.keyboard.press('Tab');
      const next = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        if (el === document.body) return null;
        return {
          text: el.textContent?.trim().slice(0, 40) ?? '',
          href: el.getAttribute('href'),
          outline: getComputedStyle(el).outlineStyle,
        };
      });
      if (!next) break;
      focused.push(next);
    }
    expect(focused[0]).toMatchObject({ text: 'Skip to content', href: '#main' });
    expect(focused.filter((f) => f.outline === 'none')).toEqual([]);
    expect(focused.map((f) => f.text)).toContain('tokyo-a100');
    // Enter on the focused node link opens its page.
    const index = focused.findIndex((f) => f.text === 'tokyo-a100');
    await page.goto(`${stack.url}/`);
    for (let i = 0; i <= index; i++) await page.keyboard.press('Tab');
    await page.screenshot({ path: join(SHOTS, 'explorer-focus.png') });
    await Promise.all([page.waitForURL(/\/nodes\//), page.keyboard.press('Enter')]);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('tokyo-a100');
    await context.close();
  });

  it('is complete without JavaScript', async () => {
    const { context, page } = await open('/', { javaScriptEnabled: false });
    expect(await stat(page, 'nodesOnline')).toBe('6');
    expect(await page.locator('#dots circle').count()).toBe(6);
    await context.close();
  });

  it('refreshes totals and dots live when a node joins', async () => {
    const { context, page, problems } = await open('/');
    expect(await stat(page, 'nodesOnline')).toBe('6');
    const late = await seedAgent(stack.url, LATE);
    await late.register();
    online.push(late);
    await page.waitForFunction(() => document.querySelector('[data-stat="nodesOnline"]')?.textContent === '7', undefined, {
      timeout: 25_000,
    });
    expect(await page.locator('#dots circle').count()).toBe(7);
    // The script rebuilt the tables with the same text the server renders.
    const models = page.getByRole('table', { name: /GPUs by model/ });
    expect(
      await models
        .getByRole('row', { name: /RTX 4090/ })
        .locator('th')
        .textContent(),
    ).toBe('RTX 4090 (2 simulated)');
    // RTX 4090 GPUs at 0.90, 0.90, 1.10, 1.20, 1.20, 1.20, 1.20: the 4th of 7 is the median.
    expect(
      await models
        .getByRole('row', { name: /RTX 4090/ })
        .locator('td')
        .allTextContents(),
    ).toEqual(['7', '3', '1.20']);
    expect(await page.getByRole('table', { name: 'Online nodes by country' }).getByText('Kenya').count()).toBe(1);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('the node page', () => {
  it('shows GPUs, live metrics, uptime and history', async () => {
    const tokyo = online[0]!;
    const { context, page, problems } = await open(`/nodes/${tokyo.nodeId}`);
    await expect(page.title()).resolves.toBe('tokyo-a100 · gridplane node');
    expect(await page.locator('h1 + p .tag').textContent()).toBe('online');
    const gpuRow = page.getByRole('table', { name: 'GPUs the agent reported' }).getByRole('row', { name: /A100/ });
    expect(await gpuRow.locator('td').allTextContents()).toEqual(['A100 80GB', '80 GiB', '8']);
    expect(
      await page
        .getByRole('table', { name: /latest heartbeat/ })
        .locator('tbody tr')
        .count(),
    ).toBe(8);
    expect(await page.locator('dt:text-is("Uptime") + dd').textContent()).toMatch(/^\d+\.\d% \(/);
    expect(
      await page
        .getByRole('table', { name: /status changes/ })
        .locator('tbody td')
        .allTextContents(),
    ).toContain('Registered');
    await expect(page.getByText('No stake is bonded on this node.').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(SHOTS, 'node-light-desktop.png'), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows an offline node with its outage in the history, in dark mode on a phone', async () => {
    const { context, page } = await open(`/nodes/${offline.nodeId}`, {
      viewport: { width: 390, height: 844 },
      colorScheme: 'dark',
      isMobile: true,
    });
    expect(await page.locator('h1 + p .tag').textContent()).toBe('offline');
    const events = await page
      .getByRole('table', { name: /status changes/ })
      .locator('tbody td:nth-child(2)')
      .allTextContents();
    expect(events).toEqual(['Went offline', 'Registered']);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(SHOTS, 'node-offline-dark-phone.png'), fullPage: true });
    await context.close();
  });

  it('labels a simulated node', async () => {
    const sim = online.find((a) => a.spec.name === 'lagos-sim')!;
    const { context, page } = await open(`/nodes/${sim.nodeId}`);
    await expect(page.locator('h1 .tag').textContent()).resolves.toBe('simulated');
    await expect(page.getByText(/made up for testing/).isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('answers an unknown node with a 404 page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const res = await page.goto(`${stack.url}/nodes/11111111111111111111111111111111`);
    expect(res?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Not found');
    await page.screenshot({ path: join(SHOTS, 'node-404.png') });
    await context.close();
  });
});
