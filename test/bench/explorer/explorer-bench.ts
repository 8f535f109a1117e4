// The explorer's weight and speed: bytes of `/` as sent and gzip'd, and first contentful paint
// in Chromium (median of several cold loads), with the same browser's paint of `/health` in the
// same run as a yardstick, so the ratio means something on any machine.
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../browser/helpers/chromium.ts';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
}

const LOADS = 7;

export async function runExplorerBench({ url }: { url: string }): Promise<BenchRow[]> {
  const res = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
  if (!res.ok) throw new Error(`GET / answered ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const browser = await launchChromium();
  try {
    const health = await paints(browser, `${url}/health`);
    const home = await paints(browser, `${url}/`);
    return [
      { name: 'explorer / page weight', value: bytes.byteLength, unit: 'bytes' },
      { name: 'explorer / page weight gzip', value: gzipSync(bytes).byteLength, unit: 'bytes' },
      { name: 'explorer / first contentful paint (median)', value: median(home.fcp), unit: 'ms' },
      { name: 'explorer / DOMContentLoaded (median)', value: median(home.dcl), unit: 'ms' },
      { name: '/health first contentful paint (median)', value: median(health.fcp), unit: 'ms' },
      { name: 'explorer / FCP vs /health FCP', value: median(home.fcp) / median(health.fcp), unit: 'x' },
    ];
  } finally {
    await browser.close();
  }
}

/** Cold loads, each in a fresh context so nothing is cached between them. */
async function paints(browser: Browser, url: string): Promise<{ fcp: number[]; dcl: number[] }> {
  const fcp: number[] = [];
  const dcl: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'load' });
    // A string, not a function: bundlers' helper names (tsx's __name) do not exist in the page.
    const timing = (await page.evaluate(READ_PAINT)) as { fcp: number; dcl: number };
    fcp.push(timing.fcp);
    dcl.push(timing.dcl);
    await context.close();
  }
  return { fcp, dcl };
}

const READ_PAINT = `new Promise((resolve) => {
  const read = () => {
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    const nav = performance.getEntriesByType('navigation')[0];
    if (paint) resolve({ fcp: paint.startTime, dcl: nav ? nav.domContentLoadedEventEnd : NaN });
    else requestAnimationFrame(read);
  };
  read();
})`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
