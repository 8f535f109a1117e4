import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { identityFromPkcs8 } from '../../edge-agent/src/identity.ts';
import { createSignedFetch } from '../../edge-agent/src/signed-fetch.ts';
import { answerChallenges, cpuSolver, type Solver } from '../../edge-agent/src/verification/challenge-runner.ts';
import { checkAnswer, entry, rowDigests, solveChallenge } from '../../protocol/matmul-challenge.ts';

// The agent's side of verification against a stand-in control plane that issues one challenge
// and judges the answer with the control plane's own checker.

let close: (() => Promise<void>) | null = null;
afterEach(async () => {
  await close?.();
  close = null;
});

async function standIn(challenge: { seed: string; n: number; products: number; simulated: boolean }) {
  const answers: { path: string; body: { digests: string; device: string } }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET') {
        res.end(JSON.stringify({ challenges: [{ id: 'ch_1', kind: 'matmul-int8-v1', deadlineMs: 60_000, ...challenge }] }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { digests: string; device: string };
      answers.push({ path: req.url ?? '', body });
      const check = await checkAnswer(challenge, [0, challenge.n - 1], new Uint8Array(Buffer.from(body.digests, 'base64')));
      res.end(JSON.stringify(check.ok ? { status: 'passed', failure: null } : { status: 'failed', failure: check.reason }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  close = () => new Promise((r) => server.close(() => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, answers };
}

async function identity() {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  return identityFromPkcs8(new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey)));
}

describe('challenge runner', () => {
  it('a simulated node answers on the CPU, marked as such, and passes', async () => {
    const cp = await standIn({ seed: '0f'.repeat(32), n: 64, products: 1, simulated: true });
    const id = await identity();
    const results = await answerChallenges({ send: createSignedFetch(id, cp.url), nodeId: id.nodeId, simulated: true });
    expect(results).toEqual([expect.objectContaining({ id: 'ch_1', device: 'cpu', status: 'passed' })]);
    expect(cp.answers[0]!.path).toBe(`/v1/nodes/${id.nodeId}/challenges/ch_1/answer`);
    expect(cp.answers[0]!.body.device).toBe('cpu');
  });

  it('a real host uses the GPU solver; a solver that fakes rows is caught by the sampled check', async () => {
    const cp = await standIn({ seed: '1e'.repeat(32), n: 48, products: 2, simulated: false });
    const id = await identity();
    const honest: Solver = async (c) => solveChallenge(c);
    const used: string[] = [];
    const tracked: Solver = async (c) => {
      used.push('gpu');
      return honest(c);
    };
    expect(
      (await answerChallenges({ send: createSignedFetch(id, cp.url), nodeId: id.nodeId, simulated: false, gpuSolver: tracked }))[0],
    ).toMatchObject({ device: 'gpu', status: 'passed' });
    expect(used).toEqual(['gpu']);
    // Computes only the first half of the rows and makes up the rest.
    const lazy: Solver = async (c) => {
      const out = await solveChallenge({ ...c });
      out.fill(0, (c.n / 2) * 8);
      return out;
    };
    expect(
      (await answerChallenges({ send: createSignedFetch(id, cp.url), nodeId: id.nodeId, simulated: false, gpuSolver: lazy }))[0],
    ).toMatchObject({ status: 'failed', failure: 'wrong_answer' });
    expect(cpuSolver).toBeTypeOf('function');
  });
});

describe('matmul-int8-v1 reference', () => {
  it('matches a hand computation for n = 2', async () => {
    // Entries from the counter hash, then C = A·B by hand, then the SHA-256 chain of row 0.
    const challenge = { seed: '00'.repeat(32), n: 2, products: 1 };
    // With an all-zero seed both matrices of product 0 have the key 0 ^ (1 · 0x27d4eb2f).
    const key = Math.imul(1, 0x27d4eb2f) >>> 0;
    const a = [0, 1, 2, 3].map((i) => entry(key, i));
    const b = [0, 1, 2, 3].map((i) => entry(key, i));
    const row0 = [a[0]! * b[0]! + a[1]! * b[2]!, a[0]! * b[1]! + a[1]! * b[3]!];
    const bytes = new Uint8Array(32 + 8);
    new DataView(bytes.buffer).setInt32(32, row0[0]!, true);
    new DataView(bytes.buffer).setInt32(36, row0[1]!, true);
    const expected = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)).slice(0, 8);
    expect((await rowDigests(challenge, [0])).get(0)).toEqual(expected);
    expect(a.every((v) => v >= -128 && v <= 127)).toBe(true);
  });
});
