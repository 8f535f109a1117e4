import { verifyAgentSignature } from '../auth/agent-signature.ts';
import { base64ToBytes, sha256Hex } from '../../protocol/signed-request.ts';

// Evidence that a node signed two different reports about the same thing: two requests it
// signed for the same method and path (a job's receipt, a job's status) with different bodies.
// Both signatures are checked as the Worker checks live requests, except for freshness: evidence
// is judged at its own timestamp.

export interface SignedReport {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Standard base64 of the body bytes exactly as signed. */
  body: string;
}

export type ContradictionCheck = { ok: true; nodeId: string; key: string } | { ok: false; reason: string };

export async function checkContradiction(a: SignedReport, b: SignedReport): Promise<ContradictionCheck> {
  const checks = [];
  for (const report of [a, b]) {
    const body = base64ToBytes(report.body);
    if (!body) return { ok: false, reason: 'a body is not base64' };
    const headers = new Headers(report.headers);
    const ts = Number(headers.get('X-Gridplane-Timestamp'));
    const check = await verifyAgentSignature({ method: report.method.toUpperCase(), pathWithQuery: report.path, headers, body, nowMs: ts });
    if (!check.ok) return { ok: false, reason: `a report's signature does not verify (${check.reason})` };
    checks.push({ nodeId: check.nodeId, bodyHash: await sha256Hex(body) });
  }
  const [x, y] = checks as [(typeof checks)[0], (typeof checks)[0]];
  if (x.nodeId !== y.nodeId) return { ok: false, reason: 'the reports are signed by different nodes' };
  if (a.method.toUpperCase() !== b.method.toUpperCase() || a.path !== b.path)
    return { ok: false, reason: 'the reports are about different things' };
  if (x.bodyHash === y.bodyHash) return { ok: false, reason: 'the reports say the same thing' };
  const key = [x.bodyHash, y.bodyHash].sort().join(':');
  return {
    ok: true,
    nodeId: x.nodeId,
    key: `reports:${await sha256Hex(new TextEncoder().encode(`${a.method.toUpperCase()} ${a.path} ${key}`))}`,
  };
}
