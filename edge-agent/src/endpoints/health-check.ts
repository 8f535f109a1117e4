// One health check of a replica: GET its health path on its loopback port. Healthy is a 2xx
// within the timeout; anything else says what happened, for the replica's state reason.
import { request } from 'node:http';

export type HealthResult = { ok: true; status: number } | { ok: false; detail: string };

export function checkHealth(port: number, path: string, timeoutMs: number, signal?: AbortSignal): Promise<HealthResult> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve({ ok: false, detail: 'cancelled' });
    let settled = false;
    const finish = (result: HealthResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(result);
    };
    // A fresh connection each time (agent: false): a pooled socket could hide a server that
    // stopped accepting new connections.
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', agent: false, headers: { 'user-agent': 'gridplane-agent health' } },
      (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        finish(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, detail: `answered ${status}` });
      },
    );
    const timer = setTimeout(() => finish({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
    const onAbort = () => finish({ ok: false, detail: 'cancelled' });
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('error', (err: NodeJS.ErrnoException) =>
      finish({ ok: false, detail: err.code === 'ECONNREFUSED' ? 'connection refused' : err.message }),
    );
    req.end();
  });
}
