// Ledger throughput on a running local control plane (development mode: it uses the dev routes).
// Every figure is a whole HTTP request: auth, validation, one D1 batch per ledger transaction.
import { throughput, type BenchRow } from '../bench-table.ts';

export interface StackRef {
  url: string;
  adminToken: string;
}

export interface LedgerBenchOptions {
  accounts: number;
  requests: number;
  concurrency: number;
}

interface DevAccount {
  accountId: string;
  apiKey: string;
}

async function call(
  stack: StackRef,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${stack.url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

async function expectStatus(res: Response, statuses: number[], what: string): Promise<unknown> {
  const text = await res.text();
  if (!statuses.includes(res.status)) throw new Error(`${what}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function devAccount(stack: StackRef, tokens: string): Promise<DevAccount> {
  const account = (await expectStatus(await call(stack, '/v1/dev/accounts', { body: {} }), [201], 'dev account')) as DevAccount;
  await expectStatus(await call(stack, '/v1/dev/faucet', { body: { accountId: account.accountId, amount: tokens } }), [201], 'faucet');
  return account;
}

const withdraw = (stack: StackRef, account: DevAccount, key: string) =>
  call(stack, '/v1/accounts/me/withdrawals', {
    body: { amount: '0.000001' },
    headers: { authorization: `Bearer ${account.apiKey}`, 'Idempotency-Key': key },
  });

export async function ledgerBench(
  stack: StackRef,
  opts: LedgerBenchOptions = { accounts: 32, requests: 600, concurrency: 16 },
): Promise<BenchRow[]> {
  const run = `b${Date.now().toString(36)}`;
  const accounts: DevAccount[] = [];
  for (let i = 0; i < opts.accounts; i++) accounts.push(await devAccount(stack, '1000'));
  const rows: BenchRow[] = [];
  const { requests, concurrency } = opts;

  // Baselines on the same stack: a route without D1, and an authenticated D1 read.
  rows.push({
    name: `GET /health (no D1), ${concurrency} in flight`,
    value: await throughput(requests, concurrency, async () => void (await expectStatus(await call(stack, '/health'), [200], 'health'))),
    unit: 'req/s',
  });
  rows.push({
    name: `GET balance (API key + 1 read), ${concurrency} in flight`,
    value: await throughput(requests, concurrency, async (i) => {
      const res = await call(stack, '/v1/accounts/me/balance', {
        headers: { authorization: `Bearer ${accounts[i % accounts.length]!.apiKey}` },
      });
      await expectStatus(res, [200], 'balance');
    }),
    unit: 'req/s',
  });

  const mint = (i: number) =>
    call(stack, '/v1/dev/faucet', { body: { accountId: accounts[i % accounts.length]!.accountId, amount: '0.000001' } }).then((r) =>
      expectStatus(r, [201], 'mint'),
    );
  rows.push({
    name: 'mint (faucet), 1 in flight',
    value: await throughput(requests / 4, 1, async (i) => void (await mint(i))),
    unit: 'tx/s',
  });
  rows.push({
    name: `mint (faucet), ${concurrency} in flight`,
    value: await throughput(requests, concurrency, async (i) => void (await mint(i))),
    unit: 'tx/s',
  });
  rows.push({
    name: `transfer user → payouts_pending (withdrawal), ${concurrency} in flight, ${accounts.length} accounts`,
    value: await throughput(
      requests,
      concurrency,
      async (i) => void (await expectStatus(await withdraw(stack, accounts[i % accounts.length]!, `${run}-w${i}`), [201], 'withdrawal')),
    ),
    unit: 'tx/s',
    note: 'guarded debit + payout row in one batch',
  });
  const hot = accounts[0]!;
  rows.push({
    name: `transfer from one hot account, ${concurrency} in flight`,
    value: await throughput(
      requests,
      concurrency,
      async (i) => void (await expectStatus(await withdraw(stack, hot, `${run}-h${i}`), [201], 'hot withdrawal')),
    ),
    unit: 'tx/s',
  });
  rows.push({
    name: `idempotent replay (same key), ${concurrency} in flight`,
    value: await throughput(
      requests,
      concurrency,
      async () => void (await expectStatus(await withdraw(stack, hot, `${run}-h0`), [200], 'replay')),
    ),
    unit: 'req/s',
    note: 'UNIQUE violation, then the first result is read',
  });
  const poor = await devAccount(stack, '0.000010');
  let refused = 0;
  rows.push({
    name: `overdraft attempts refused in SQL, ${concurrency} in flight`,
    value: await throughput(requests / 2, concurrency, async (i) => {
      const res = await withdraw(stack, poor, `${run}-p${i}`);
      await expectStatus(res, [201, 402], 'overdraft');
      if (res.status === 402) refused++;
    }),
    unit: 'req/s',
    note: `${refused} refused, ${requests / 2 - refused} accepted (balance covered 10)`,
  });

  const started = performance.now();
  const report = (await expectStatus(
    await call(stack, '/v1/admin/ledger/reconcile', { headers: { authorization: `Bearer ${stack.adminToken}` } }),
    [200],
    'reconcile',
  )) as { ok: boolean; totals: { entries: number; transactions: number } };
  rows.push({
    name: 'reconcile (all four checks, one batch)',
    value: performance.now() - started,
    unit: 'ms',
    note: `${report.totals.transactions} transactions, ${report.totals.entries} entries; ${report.ok ? 'ok' : 'NOT OK'}`,
  });
  return rows;
}
