// Splitting an integer amount by weights without minting or losing a base unit: every part gets
// the floor of its exact share, and the units left over go one each to the largest fractional
// remainders, ties broken by key (ascending). The parts always sum to the total exactly.

export interface Weighted<K extends string = string> {
  key: K;
  weight: bigint;
}

/** total ≥ 0, weights ≥ 0; all-zero weights give all-zero parts (the caller decides the carry). */
export function apportion<K extends string>(total: bigint, items: readonly Weighted<K>[]): Map<K, bigint> {
  const out = new Map<K, bigint>();
  let sum = 0n;
  for (const it of items) {
    if (it.weight < 0n) throw new RangeError(`negative weight for ${it.key}`);
    sum += it.weight;
    out.set(it.key, 0n);
  }
  if (total < 0n) throw new RangeError('negative total');
  if (sum === 0n || total === 0n) return out;
  const rest: { key: K; rem: bigint }[] = [];
  let given = 0n;
  for (const it of items) {
    const exact = total * it.weight;
    const part = exact / sum;
    out.set(it.key, (out.get(it.key) ?? 0n) + part);
    given += part;
    rest.push({ key: it.key, rem: exact % sum });
  }
  let left = total - given; // < items.length
  rest.sort((a, b) => (a.rem !== b.rem ? (a.rem > b.rem ? -1 : 1) : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (let i = 0; left > 0n; i++, left--) {
    const r = rest[i]!;
    out.set(r.key, out.get(r.key)! + 1n);
  }
  return out;
}
