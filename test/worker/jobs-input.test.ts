import { describe, expect, it } from 'vitest';
import { getBalance } from '../../workers/ledger/ledger.repo.ts';
import { errorOf } from './helpers/agent.ts';
import { jobBody, newRenter } from './helpers/jobs.ts';
import { testDb } from './helpers/ledger.ts';

// A job request that the edge agent would refuse (protocol/job-rules.ts) is refused at
// the API with 400 and the field, before a quote is run or a token is held.

const HOSTILE: [string, Record<string, unknown>][] = [
  ['an image that is a docker flag', { image: '--privileged' }],
  ['a volume flag as image', { image: '-v=/:/host' }],
  ['a registry on the host', { image: 'localhost:5000/x' }],
  ['the cloud metadata address as registry', { image: '169.254.169.254/x' }],
  ['an env name that steers the docker CLI, lower-cased', { env: { docker_host: 'tcp://10.0.0.1:2375' } }],
  ['an env name with =', { env: { 'A=B': '1' } }],
  ['an env value that smuggles a second variable', { env: { A: 'x\nLD_PRELOAD=/tmp/x.so' } }],
  ['NUL in an argument', { command: ['sh', '-c', 'a\0b'] }],
];

describe('job requests the agent would refuse', () => {
  it.each(HOSTILE)('refuses %s with 400 and holds nothing', async (_label, overrides) => {
    const renter = await newRenter('10.000000');
    const res = await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 48.85, lon: 2.35 }, ...overrides }));
    const error = await errorOf(res);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(error.message).toMatch(/^(image|env|command)/);
    expect(await getBalance(testDb(), renter.accountId)).toBe(10_000_000);
  });
});
