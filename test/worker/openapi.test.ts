import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
// Deposits and the withdrawal quote talk to the Solana stand-in (Kit's crypto needs the flag this sets).
import './helpers/solana.ts';
import { GridplaneClient, operations, type OperationId } from '../../clients/typescript/gridplane-client.ts';
import { app } from '../../workers/app.ts';
import { catalogue } from '../../workers/openapi/catalogue.ts';
import { errorsOf } from '../../workers/openapi/document.ts';
import type { Operation } from '../../workers/openapi/operation.ts';
import { whyUndocumented } from '../../workers/openapi/not-documented.ts';
import { errorBodySchema } from '../../workers/lib/wire-schemas.ts';
import { endpointsContext } from '../../workers/endpoints/endpoints-context.ts';
import { tendEndpoint } from '../../workers/endpoints/tend.ts';
import { api, registeredAgent } from './helpers/agent.ts';
import { jobBody, newRenter, nodeAt, sendEvent } from './helpers/jobs.ts';
import { randomWallet } from './helpers/ledger.ts';

// The OpenAPI document against the app it describes: every registered route is documented or
// deliberately left out, every documented operation exists, answers match their documented
// schemas field for field (an undocumented field fails), errors carry documented codes, the
// /docs page loads nothing from elsewhere, and the typed client names the same operations.

const opById = new Map(catalogue.map((op) => [op.operationId, op]));
const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');
const registered = () => {
  const seen = new Set<string>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue; // middleware
    seen.add(`${r.method} ${r.path.length > 1 ? r.path.replace(/\/+$/, '') : r.path}`);
  }
  return seen;
};

/** The answer matches the operation's documented success schema, or is a documented error. */
async function conforms(operationId: string, res: Response): Promise<any> {
  const op = opById.get(operationId) as Operation;
  const body = await res.json();
  if (res.status >= 400) {
    const parsed = errorBodySchema.parse(body);
    const documented = errorsOf(op)
      .filter((e) => e.status === res.status)
      .map((e) => e.code);
    expect(documented, `${operationId} answered ${res.status} ${parsed.error.code}: ${parsed.error.message}`).toContain(parsed.error.code);
    return body;
  }
  const success = op.responses.find((r) => r.status === res.status);
  expect(success, `${operationId} answered an undocumented status ${res.status}: ${JSON.stringify(body)}`).toBeDefined();
  const result = (success!.schema as z.ZodType).safeParse(body);
  expect(result.success ? null : result.error.issues, `${operationId}: ${JSON.stringify(body).slice(0, 400)}`).toBeNull();
  // z.object drops fields it does not know: a difference is a field the document does not name.
  expect(result.data, `${operationId} answered fields its schema does not document`).toEqual(body);
  return body;
}

describe('the OpenAPI document', () => {
  it('documents every registered route, or names why not; and documents no route that does not exist', () => {
    const routes = registered();
    const documented = new Set(catalogue.map((op) => `${op.method.toUpperCase()} ${honoPath(op.path)}`));
    const missing = [...routes].filter((r) => !documented.has(r) && whyUndocumented(r.split(' ')[0]!, r.split(' ')[1]!) === null);
    expect(missing, 'routes neither in workers/openapi/catalogue.ts nor in not-documented.ts').toEqual([]);
    const stale = [...documented].filter((d) => !routes.has(d));
    expect(stale, 'catalogue entries with no such route').toEqual([]);
    expect(new Set(catalogue.map((op) => op.operationId)).size).toBe(catalogue.length);
  });

  it('is served at /openapi.json with every operation, its parameters, body and errors', async () => {
    const res = await api('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, any>>; components: any };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    const submit = doc.paths['/v1/jobs']!.post;
    expect(submit.operationId).toBe('submitJob');
    expect(submit.security).toEqual([{ apiKey: [] }]);
    expect(submit.requestBody.content['application/json'].schema.required).toEqual(['gpu', 'durationS', 'image']);
    expect(submit.parameters.map((p: { name: string }) => p.name)).toEqual(['Idempotency-Key']);
    const codes = (status: string) =>
      submit.responses[status].content['application/json'].schema.allOf[1].properties.error.properties.code.enum;
    expect(codes('402')).toEqual(['insufficient_funds']);
    expect(codes('401')).toEqual(['unauthorized']);
    expect(codes('400')).toEqual(
      expect.arrayContaining(['invalid_request', 'malformed_json', 'client_location_required', 'invalid_idempotency_key']),
    );
    const logs = doc.paths['/v1/jobs/{id}/logs']!.get;
    expect(logs.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'id', in: 'path', required: true }),
        expect.objectContaining({
          name: 'after',
          in: 'query',
          required: false,
          schema: expect.objectContaining({ type: 'integer', default: -1 }),
        }),
      ]),
    );
    // A public route has no security requirement and no 401.
    expect(doc.paths['/v1/quotes']!.post.security).toEqual([]);
    expect(doc.paths['/v1/quotes']!.post.responses['401']).toBeUndefined();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        expect(op.responses['429'], `${method} ${path}`).toBeDefined();
        expect(
          Object.keys(op.responses).some((s) => s.startsWith('2')),
          `${method} ${path}`,
        ).toBe(true);
      }
    }
  });

  it('renders at /docs from the same catalogue, under a CSP that loads nothing from elsewhere', async () => {
    const res = await api('/docs');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'none'");
    const html = await res.text();
    for (const op of catalogue) expect(html).toContain(`id="${op.operationId}"`);
    expect(html).toContain('insufficient_funds');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('the typed client names exactly the documented operations, with the same method and path', async () => {
    const doc = (await (await api('/openapi.json')).json()) as { paths: Record<string, Record<string, { operationId: string }>> };
    const inDocument = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => [op.operationId, method.toUpperCase(), path].join(' ')),
    );
    const inClient = Object.entries(operations).map(([id, [method, path]]) => [id, method, path].join(' '));
    expect(inClient.sort()).toEqual(inDocument.sort());
  });
});

describe('answers match the documented schemas', () => {
  it('public reads', async () => {
    const agent = await registeredAgent();
    await conforms('getIndex', await api('/', { headers: { accept: 'application/json' } }));
    await conforms('getHealth', await api('/health'));
    await conforms('listProbes', await api('/v1/probes'));
    await conforms('getNetworkSummary', await api('/v1/network/summary'));
    const templates = await conforms('listTemplates', await api('/v1/templates'));
    expect(templates.templates.map((t: { id: string }) => t.id)).toEqual(['notebook', 'chat', 'shell', 'custom']);
    await conforms('listNodes', await api('/v1/nodes?limit=5'));
    await conforms('getNode', await api(`/v1/nodes/${agent.nodeId}`));
    await conforms('getNode', await api(`/v1/nodes/${randomWallet()}`));
    await conforms('listNodes', await api('/v1/nodes?limit=0'));
    await conforms('getParams', await api('/v1/governance/params'));
    await conforms('listProposals', await api('/v1/governance/proposals'));
    await conforms('getProposal', await api('/v1/governance/proposals/999999'));
    await conforms('listSlashes', await api('/v1/staking/slashes'));
    await conforms('getEpoch', await api('/v1/staking/epochs/999999'));
    await conforms(
      'siwsChallenge',
      await api('/v1/auth/siws/challenge', { method: 'POST', body: JSON.stringify({ address: randomWallet() }) }),
    );
    await conforms('siwsVerify', await api('/v1/auth/siws/verify', { method: 'POST', body: '{' }));
  });

  it("a renter: account, quote, job, logs, cancel, deposits, withdrawals; a node's staking", async () => {
    const node = await nodeAt(41.39, 2.17, 'ES', { name: 'openapi' });
    const renter = await newRenter();
    const call = (
      id: OperationId,
      init: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown; headers?: Record<string, string> } = {},
    ) => {
      const url = new GridplaneClient({ baseUrl: '' }).url(id, init);
      return renter.call(operations[id][0], url, init.body, init.headers);
    };
    await conforms('getMe', await call('getMe'));
    await conforms('getBalance', await call('getBalance'));
    await conforms('listEntries', await call('listEntries', { query: { limit: '2' } }));
    await conforms(
      'createQuote',
      await call('createQuote', { body: { gpu: { count: 1 }, durationS: 60, client: { lat: 41.4, lon: 2.2 } } }),
    );
    await conforms('createQuote', await call('createQuote', { body: { gpu: { count: 1 }, durationS: 60 } }));
    const job = await conforms(
      'submitJob',
      await call('submitJob', { body: jobBody({ client: { lat: 41.4, lon: 2.2 } }), headers: { 'Idempotency-Key': 'openapi-1' } }),
    );
    expect(job.nodeId).toBe(node.nodeId);
    await conforms(
      'submitJob',
      await call('submitJob', { body: jobBody({ client: { lat: 41.4, lon: 2.2 } }), headers: { 'Idempotency-Key': 'openapi-1' } }),
    );
    await conforms('submitJob', await call('submitJob', { body: jobBody({ durationS: 3_000_000 }) }));
    for (const event of [{ kind: 'accepted' }, { kind: 'started' }, { kind: 'log', seq: 0, stream: 'stdout', data: 'hello\n' }]) {
      expect((await sendEvent(node, job.id, event)).status).toBe(200);
    }
    await conforms('getJob', await call('getJob', { params: { id: job.id } }));
    const logs = await conforms('getJobLogs', await call('getJobLogs', { params: { id: job.id }, query: { after: '-1' } }));
    expect(logs.logs.map((l: { data: string }) => l.data)).toEqual(['hello\n']);
    const listed = await conforms('listJobs', await call('listJobs', { query: { limit: '1' } }));
    expect(listed.jobs.map((j: { id: string }) => j.id)).toEqual([job.id]);
    await conforms('listJobs', await call('listJobs', { query: { cursor: 'nope' } }));
    const cancelled = await conforms('cancelJob', await call('cancelJob', { params: { id: job.id } }));
    expect(cancelled.billing).not.toBeNull();
    await conforms('cancelJob', await call('cancelJob', { params: { id: job.id } }));
    await conforms('getJob', await call('getJob', { params: { id: 'job_nope' } }));
    await conforms('createDeposit', await call('createDeposit', { body: { amount: '5' } }));
    await conforms('listDeposits', await call('listDeposits'));
    await conforms('listWithdrawals', await call('listWithdrawals'));
    await conforms('quoteWithdrawal', await call('quoteWithdrawal', { query: { amount: '5' } }));
    await conforms('getNodeStaking', await call('getNodeStaking', { params: { nodeId: node.nodeId } }));
    await conforms('getNodeRewards', await call('getNodeRewards', { params: { nodeId: node.nodeId } }));
    await conforms('getMyRewards', await call('getMyRewards'));
    await conforms('unstake', await call('unstake', { body: { nodeId: node.nodeId, amount: '1' } }));
    const keys = await conforms('listApiKeys', await call('listApiKeys'));
    await conforms('revokeApiKey', await call('revokeApiKey', { params: { prefix: 'gpk_00000000' } }));
    await conforms('revokeApiKey', await call('revokeApiKey', { params: { prefix: keys.apiKeys[0].prefix } }));
    await conforms('getMe', await call('getMe'));
  });

  it("a renter's endpoints and their keys", async () => {
    await nodeAt(52.52, 13.4, 'DE', { name: 'openapi-endpoints' });
    const renter = await newRenter();
    const call = (
      id: OperationId,
      init: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown; headers?: Record<string, string> } = {},
    ) => renter.call(operations[id][0], new GridplaneClient({ baseUrl: '' }).url(id, init), init.body, init.headers);
    const body = {
      name: 'api',
      image: 'python:3.12-slim',
      port: 8000,
      gpu: { count: 1 },
      maxPricePerGpuHour: '2',
      regions: [{ lat: 52.5, lon: 13.4 }],
      replicas: { min: 1, max: 2 },
    };
    const endpoint = await conforms('createEndpoint', await call('createEndpoint', { body, headers: { 'Idempotency-Key': 'openapi-ep' } }));
    await conforms('createEndpoint', await call('createEndpoint', { body, headers: { 'Idempotency-Key': 'openapi-ep' } }));
    await conforms('createEndpoint', await call('createEndpoint', { body: { ...body, port: 0 } }));
    // A first hold (15 minutes at up to 1000 per GPU-hour) the renter's 100 cannot fund.
    const unfunded = await call('createEndpoint', { body: { ...body, maxPricePerGpuHour: '1000' } });
    expect(unfunded.status).toBe(402);
    await conforms('createEndpoint', unfunded);
    await conforms('listEndpoints', await call('listEndpoints', { query: { limit: '1' } }));
    const params = { id: endpoint.id };
    await tendEndpoint(endpointsContext(env), endpoint.id, Date.now());
    const detail = await conforms('getEndpoint', await call('getEndpoint', { params }));
    expect(detail.replicaSet).toHaveLength(1);
    await conforms('getEndpoint', await call('getEndpoint', { params: { id: 'ep_nope' } }));
    await conforms('updateEndpoint', await call('updateEndpoint', { params, body: { replicas: { max: 3 } } }));
    await conforms('updateEndpoint', await call('updateEndpoint', { params, body: {} }));
    const key = await conforms('createEndpointKey', await call('createEndpointKey', { params, body: { name: 'k' } }));
    await conforms('listEndpointKeys', await call('listEndpointKeys', { params }));
    await conforms('revokeEndpointKey', await call('revokeEndpointKey', { params: { ...params, keyId: key.id } }));
    await conforms('revokeEndpointKey', await call('revokeEndpointKey', { params: { ...params, keyId: key.id } }));
    await conforms('deleteEndpoint', await call('deleteEndpoint', { params }));
    await conforms('createEndpointKey', await call('createEndpointKey', { params, body: {} }));
  });
});
