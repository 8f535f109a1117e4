import { encodeQR } from 'qr';

// A QR code drawn in a terminal with Unicode half blocks: each character is two modules stacked
// (top, bottom), so the code stays square in a terminal whose cells are twice as tall as wide.
// Dark modules are drawn as the terminal's background (space), light ones as full blocks, which
// reads correctly on a dark terminal, the common case; `--no-qr` leaves it out. Four modules of
// quiet zone around it, as the standard asks.

export const QUIET_ZONE = 4;
const GLYPH: Record<string, string> = { '00': '█', '01': '▀', '10': '▄', '11': ' ' };

/** The QR code's modules, true for dark, error correction M (what Solana Pay wallets scan). */
export function qrMatrix(text: string): boolean[][] {
  // The encoder insists on a border of at least one module: take it off, the drawing adds its own.
  return encodeQR(text, 'raw', { ecc: 'medium', border: 1 })
    .slice(1, -1)
    .map((row) => row.slice(1, -1));
}

export function qrText(text: string): string {
  const m = qrMatrix(text);
  const size = m.length + 2 * QUIET_ZONE;
  const dark = (row: number, col: number) => m[row - QUIET_ZONE]?.[col - QUIET_ZONE] === true;
  const lines: string[] = [];
  for (let row = 0; row < size; row += 2) {
    let line = '';
    for (let col = 0; col < size; col++) line += GLYPH[`${dark(row, col) ? 1 : 0}${row + 1 < size && dark(row + 1, col) ? 1 : 0}`];
    lines.push(line);
  }
  return lines.join('\n');
}

/** The modules back from the drawing (the inverse of qrText), for tests. */
export function parseQrText(drawing: string): boolean[][] {
  const reverse = Object.fromEntries(Object.entries(GLYPH).map(([k, v]) => [v, k]));
  const rows: boolean[][] = [];
  for (const line of drawing.split('\n')) {
    const pairs = [...line].map((ch) => reverse[ch] ?? '00');
    rows.push(
      pairs.map((p) => p[0] === '1'),
      pairs.map((p) => p[1] === '1'),
    );
  }
  const size = rows[0]!.length;
  return rows.slice(QUIET_ZONE, size - QUIET_ZONE).map((r) => r.slice(QUIET_ZONE, size - QUIET_ZONE));
}
