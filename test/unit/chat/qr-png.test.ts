import { describe, expect, it } from 'vitest';
import { qrPng } from '../../../workers/lib/qr-png.ts';
import { readPng, scanQrPng } from '../../support/qr-png-read.ts';

describe('qrPng', () => {
  it('writes a PNG whose QR code scans back to the Solana Pay URL', async () => {
    const url =
      'solana:7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU?amount=25&spl-token=EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v&reference=9hWD3DdVnZDZj3JLsPsr5u2Uo5PGh6rQdqfCNnBUvm5v&label=gridplane&message=Deposit%20to%20your%20gridplane%20balance';
    const png = await qrPng(url);
    const image = await readPng(png);
    // 4-module quiet zone on each side, 6 pixels a module, square.
    expect(image.width).toBe(image.height);
    expect(image.width % 6).toBe(0);
    expect(Array.from(image.rgba.subarray(0, 4))).toEqual([255, 255, 255, 255]);
    expect(await scanQrPng(png)).toBe(url);
    // Small enough for a chat photo, far under Telegram's 10 MB.
    expect(png.length).toBeLessThan(10_000);
  });
});
