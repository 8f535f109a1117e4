// The hardware challenge, shared by the control plane (which checks a few rows) and the agent
// (which computes all of them). Pure and deterministic; no I/O but the SHA-256 passed in.
//
// matmul-int8-v1. From a 32-byte seed, for each product p < P: A_p and B_p are n×n matrices of
// int8 whose entries come from a counter-based hash of (seed, matrix, p, index), and
// C_p = A_p · B_p with int32 accumulation — exact, so a GPU (int8 tensor cores), a CPU and this
// reference agree bit for bit. Row i's digest chains the products:
//   h_i⁰ = 32 zero bytes,  h_iᵖ⁺¹ = SHA-256(h_iᵖ ‖ row_i(C_p) as int32 little-endian)
// and the answer is the first 8 bytes of every h_iᴾ, rows in order (8·n bytes, base64). The
// control plane recomputes a few rows it chose in secret when it issued the challenge, at a cost
// of P·n² per row instead of the P·2n³ the node had to spend.

export const CHALLENGE_KIND = 'matmul-int8-v1';
export const DIGEST_BYTES = 8;

export interface MatmulChallenge {
  /** 64 lower-case hex characters. */
  seed: string;
  n: number;
  products: number;
}

export type Sha256 = (bytes: Uint8Array<ArrayBuffer>) => Promise<Uint8Array>;

export const webCryptoSha256: Sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));

/** Integer operations of the whole task (multiply and add counted apart). */
export const challengeOps = (c: Pick<MatmulChallenge, 'n' | 'products'>) => 2 * c.products * c.n ** 3;

function seedWords(seed: string): Uint32Array {
  if (!/^[0-9a-f]{64}$/.test(seed)) throw new RangeError('seed must be 64 lower-case hex characters');
  const words = new Uint32Array(8);
  for (let i = 0; i < 8; i++) words[i] = parseInt(seed.slice(i * 8, i * 8 + 8), 16) >>> 0;
  return words;
}

/** Key of matrix `which` (0 = A, 1 = B) of product p. */
function matrixKey(words: Uint32Array, which: 0 | 1, p: number): number {
  return (words[which * 4 + (p & 3)]! ^ Math.imul(p + 1, 0x27d4eb2f) ^ Math.imul(p >>> 2, 0x165667b1)) >>> 0;
}

/** One int8 entry: a murmur3-style finaliser of (index, key), low byte, as −128..127. */
export function entry(key: number, index: number): number {
  let h = (Math.imul(index, 0x9e3779b1) ^ key) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h & 0xff) - 128;
}

function fill(key: number, from: number, count: number): Int8Array {
  const out = new Int8Array(count);
  for (let i = 0; i < count; i++) out[i] = entry(key, from + i);
  return out;
}

/** Row i of A_p·B_p, given B_p. */
function productRow(aRow: Int8Array, b: Int8Array, n: number): Int32Array {
  const row = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const a = aRow[k]!;
    if (a === 0) continue;
    const base = k * n;
    for (let j = 0; j < n; j++) row[j] = (row[j]! + a * b[base + j]!) | 0;
  }
  return row;
}

function chainInput(previous: Uint8Array, row: Int32Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(previous.length + row.length * 4);
  out.set(previous, 0);
  const view = new DataView(out.buffer);
  for (let j = 0; j < row.length; j++) view.setInt32(previous.length + j * 4, row[j]!, true);
  return out;
}

/** Digests of the given rows (the control plane's check). */
export async function rowDigests(
  challenge: MatmulChallenge,
  rows: readonly number[],
  sha256: Sha256 = webCryptoSha256,
): Promise<Map<number, Uint8Array>> {
  const { n, products } = challenge;
  const words = seedWords(challenge.seed);
  const state = new Map<number, Uint8Array>(rows.map((r) => [r, new Uint8Array(32)]));
  for (let p = 0; p < products; p++) {
    const b = fill(matrixKey(words, 1, p), 0, n * n);
    const aKey = matrixKey(words, 0, p);
    for (const i of state.keys()) {
      const row = productRow(fill(aKey, i * n, n), b, n);
      state.set(i, await sha256(chainInput(state.get(i)!, row)));
    }
  }
  return new Map([...state].map(([i, h]) => [i, h.slice(0, DIGEST_BYTES)]));
}

/** Every row's digest, concatenated (the agent's reference CPU solver). */
export async function solveChallenge(challenge: MatmulChallenge, sha256: Sha256 = webCryptoSha256): Promise<Uint8Array> {
  const all = await rowDigests(
    challenge,
    Array.from({ length: challenge.n }, (_, i) => i),
    sha256,
  );
  const out = new Uint8Array(challenge.n * DIGEST_BYTES);
  for (const [i, d] of all) out.set(d, i * DIGEST_BYTES);
  return out;
}

export type AnswerCheck = { ok: true } | { ok: false; reason: 'malformed_answer' | 'wrong_answer'; rows?: number[] };

/** Checks the answer's digests of the sampled rows against a recomputation. */
export async function checkAnswer(
  challenge: MatmulChallenge,
  sample: readonly number[],
  answer: Uint8Array,
  sha256: Sha256 = webCryptoSha256,
): Promise<AnswerCheck> {
  if (answer.length !== challenge.n * DIGEST_BYTES) return { ok: false, reason: 'malformed_answer' };
  const expected = await rowDigests(challenge, sample, sha256);
  const wrong: number[] = [];
  for (const [i, digest] of expected) {
    const given = answer.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
    if (!digest.every((byte, k) => byte === given[k])) wrong.push(i);
  }
  return wrong.length === 0 ? { ok: true } : { ok: false, reason: 'wrong_answer', rows: wrong };
}
