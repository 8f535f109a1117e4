// Token amounts cross the API as decimal strings in whole tokens ("1.250000") and live inside
// the system as integers in base units. D1 returns integers as JS numbers, so every amount is
// kept within Number.MAX_SAFE_INTEGER (9.007e15 base units = 9 billion tokens at 6 decimals).

const AMOUNT_PATTERN = /^(0|[1-9][0-9]{0,15})(?:\.([0-9]{1,18}))?$/;

export type AmountParse = { ok: true; baseUnits: number } | { ok: false; reason: string };

export function parseAmount(text: string, decimals: number): AmountParse {
  const match = AMOUNT_PATTERN.exec(text);
  if (!match) return { ok: false, reason: 'must be a decimal string such as "1.250000"' };
  const whole = match[1]!;
  const fraction = match[2] ?? '';
  if (fraction.length > decimals) {
    return { ok: false, reason: `has more than ${decimals} decimal places` };
  }
  const units = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0');
  if (units > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: 'is too large' };
  return { ok: true, baseUnits: Number(units) };
}

export function formatAmount(baseUnits: number | bigint, decimals: number): string {
  const value = BigInt(baseUnits);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const scale = 10n ** BigInt(decimals);
  const whole = (abs / scale).toString();
  const fraction = decimals > 0 ? `.${(abs % scale).toString().padStart(decimals, '0')}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}
