import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import decodeQR from 'qr/decode.js';
import { describe, expect, it } from 'vitest';
import { configPath, readConfig, resolveSettings, writeConfig } from '../../../cli/src/config.ts';
import { parseDuration, parseEnv, UsageError } from '../../../cli/src/parse.ts';
import { parseQrText, qrMatrix, qrText, QUIET_ZONE } from '../../../cli/src/qr-text.ts';

// The CLI's parts that need no control plane: the terminal QR code (drawn, read back, and
// decoded by an independent QR reader), the config file's permissions and precedence, parsers.

/** The matrix as an RGB image, `scale` pixels a module, with the quiet zone, for the decoder. */
function image(matrix: boolean[][], scale = 4) {
  const size = (matrix.length + 2 * QUIET_ZONE) * scale;
  const data = new Uint8Array(size * size * 3).fill(255);
  for (const [r, row] of matrix.entries()) {
    for (const [c, dark] of row.entries()) {
      if (!dark) continue;
      for (let y = 0; y < scale; y++) {
        for (let x = 0; x < scale; x++)
          data.fill(
            0,
            (((r + QUIET_ZONE) * scale + y) * size + (c + QUIET_ZONE) * scale + x) * 3,
            (((r + QUIET_ZONE) * scale + y) * size + (c + QUIET_ZONE) * scale + x) * 3 + 3,
          );
      }
    }
  }
  return { width: size, height: size, data };
}

describe('terminal QR code', () => {
  const url =
    'solana:7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU?amount=5&spl-token=So11111111111111111111111111111111111111112&reference=9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM&label=gridplane';

  it('draws exactly the modules of the code, and those decode back to the Solana Pay URL', () => {
    const drawing = qrText(url);
    const matrix = qrMatrix(url);
    expect(parseQrText(drawing)).toEqual(matrix);
    expect(decodeQR(image(matrix))).toBe(url);
  });

  it('keeps a quiet zone and a square shape: two module rows per text line', () => {
    const lines = qrText(url).split('\n');
    const modules = qrMatrix(url).length + 2 * QUIET_ZONE;
    expect(lines.every((l) => [...l].length === modules)).toBe(true);
    expect(lines.length).toBe(Math.ceil(modules / 2));
    expect(lines[0]).toBe('█'.repeat(modules));
  });
});

describe('config', () => {
  it('is written readable only by the user, in a folder only the user can enter', async () => {
    const home = mkdtempSync(join(tmpdir(), 'gridplane-cli-'));
    const path = configPath({ HOME: home });
    expect(path).toBe(join(home, '.config', 'gridplane', 'config.json'));
    await writeConfig(path, { url: 'http://x', apiKey: 'gpk_secret' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, '.config', 'gridplane')).mode & 0o777).toBe(0o700);
    expect(await readConfig(path)).toEqual({ url: 'http://x', apiKey: 'gpk_secret' });
    expect(configPath({ XDG_CONFIG_HOME: '/xdg', HOME: home })).toBe('/xdg/gridplane/config.json');
  });

  it('takes the flag, then the environment, then the file', () => {
    const stored = { url: 'http://file', apiKey: 'file-key' };
    expect(resolveSettings({}, {}, stored)).toEqual({ url: 'http://file', apiKey: 'file-key', keySource: 'config' });
    expect(resolveSettings({}, { GRIDPLANE_API_KEY: 'env-key', GRIDPLANE_URL: 'http://env/' }, stored)).toEqual({
      url: 'http://env',
      apiKey: 'env-key',
      keySource: 'env',
    });
    expect(resolveSettings({ apiKey: 'flag-key', url: 'http://flag' }, { GRIDPLANE_API_KEY: 'env-key' }, stored)).toEqual({
      url: 'http://flag',
      apiKey: 'flag-key',
      keySource: 'flag',
    });
    expect(resolveSettings({}, {}, {})).toEqual({ url: 'http://127.0.0.1:8787', keySource: 'none' });
  });
});

describe('parsers', () => {
  it('durations', () => {
    expect([parseDuration('90'), parseDuration('90s'), parseDuration('10m'), parseDuration('2h'), parseDuration('1d')]).toEqual([
      90, 90, 600, 7200, 86_400,
    ]);
    expect(() => parseDuration('0')).toThrow(UsageError);
    expect(() => parseDuration('10 minutes')).toThrow(/--duration/);
  });

  it('env pairs keep everything after the first =', () => {
    expect(parseEnv(['A=1', 'B=x=y', 'C='])).toEqual({ A: '1', B: 'x=y', C: '' });
    expect(() => parseEnv(['=x'])).toThrow(/NAME=value/);
  });
});
