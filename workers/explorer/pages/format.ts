// How numbers, amounts, times and countries read on the pages. The refresh script repeats
// `formatTokens` and `countryName` in the browser; keep them in step.

const integer = new Intl.NumberFormat('en-US');

export const formatInt = (n: number) => integer.format(n);

/** "1.250000" → "1.25": at least two decimals, no trailing zeros beyond them. */
export function formatTokens(amount: string): string {
  const [whole, fraction = ''] = amount.split('.');
  const trimmed = fraction.replace(/0+$/, '').padEnd(2, '0');
  return `${whole}.${trimmed}`;
}

export function formatPercent(ratio: number): string {
  return `${(Math.round(ratio * 1000) / 10).toFixed(1)}%`;
}

/** "2026-11-21 11:05 UTC": unambiguous for every reader, no locale guessing on the server. */
export function formatTime(at: number | string): string {
  const iso = new Date(at).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.max(0, Math.floor(ms / 1000))} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days ${hours % 24} h`;
}

/** The model column of the GPUs table; the refresh script builds the same text. */
export function modelLabel(model: string, simulatedGpus: number): string {
  return simulatedGpus > 0 ? `${model} (${simulatedGpus} simulated)` : model;
}

let regionNames: Intl.DisplayNames | null | undefined;

/** "JP" → "Japan" where the runtime knows it; the code itself otherwise. */
export function countryName(code: string): string {
  if (regionNames === undefined) {
    try {
      regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
    } catch {
      regionNames = null;
    }
  }
  try {
    return regionNames?.of(code) ?? code;
  } catch {
    return code;
  }
}
