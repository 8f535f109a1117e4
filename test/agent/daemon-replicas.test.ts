import { mkdtempSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { startDaemon } from '../../edge-agent/src/daemon.ts';
import { createMemoryLogger } from '../../edge-agent/src/log.ts';
import type { TunnelControlToWorker } from '../../protocol/tunnel.ts';
import { FakeControlPlane, initHome, waitFor } from './helpers/index.ts';

// The daemon with its endpoints tunnel: the stand-in control plane names the job stream in its
// heartbeat answers (as the real one does), and a loopback `ws` server plays the node's tunnel
// object: it checks the upgrade's signature, sends a desired set, and records what comes back.
// The replica is a real Node HTTP server run by the simulated process runtime.

const SERVER = fileURLToPath(new URL('./fixtures/replica-server.mjs', import.meta.url));
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('daemon: endpoint replicas over the tunnel', () => {
  it('opens the signed tunnel, runs the desired set, reports states and receipts, and stops the replica on shutdown before the tunnel closes', async () => {
    const wss = new WebSocketServer({ noServer: true });
    const sockets: WebSocket[] = [];
    const received: TunnelControlToWorker[] = [];
    const upgrades: { url: string; signed: boolean }[] = [];
    const pidFile = join(mkdtempSync(join(tmpdir(), 'replica-pid-')), 'pid');
    const desired = {
      type: 'replicas',
      replicas: [
        {
          replicaId: 'rep_d1',
          endpointId: 'ep_1',
          image: 'ghcr.io/acme/serve:1',
          command: [process.execPath, SERVER],
          env: { PID_FILE: pidFile },
          port: 8000,
          healthPath: '/health',
          gpus: { count: 1, model: 'RTX 4090' },
        },
      ],
    };
    const cp: FakeControlPlane = new FakeControlPlane({
      onHeartbeat: (_n, req) => ({
        status: 200,
        body: { nextHeartbeatS: 30, jobs: [], stream: { path: req.url.replace(/\/heartbeat$/, '/stream') } },
      }),
      onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        upgrades.push({ url: req.url ?? '', signed: cp.upgradeSigned(req) });
        if (!req.url?.endsWith('/tunnel') || !cp.upgradeSigned(req)) return socket.destroy();
        wss.handleUpgrade(req, socket, head, (ws) => {
          sockets.push(ws);
          ws.on('message', (data, isBinary) => {
            if (!isBinary) received.push(JSON.parse(String(data)) as TunnelControlToWorker);
          });
          ws.send(JSON.stringify(desired));
        });
      },
    });
    await cp.listen();
    cleanup.push(async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await cp.close();
    });
    const agent = await initHome({ controlPlaneUrl: cp.url });
    cp.publicKey = agent.publicKey;

    const controller = new AbortController();
    const done = startDaemon({
      home: agent.home,
      signal: controller.signal,
      logger: createMemoryLogger(),
      noJobStream: true,
      replicaTiming: { startPollMs: 25, healthIntervalMs: 50, receiptIntervalMs: 100 },
    });
    cleanup.push(async () => {
      controller.abort();
      await done.catch(() => undefined);
    });

    const states = () => received.filter((m) => m.type === 'replica_state').map((m) => m.state);
    const receipts = () => received.filter((m) => m.type === 'replica_receipt');
    await waitFor(() => states().includes('ready') && receipts().length > 0, 'ready and a receipt over the tunnel', 15_000);
    expect(upgrades).toEqual([{ url: `/v1/nodes/${agent.nodeId}/tunnel`, signed: true }]);
    expect(states().slice(0, 2)).toEqual(['starting', 'ready']);
    expect(receipts()[0]).toMatchObject({ replicaId: 'rep_d1', readyMs: expect.any(Number) });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);

    controller.abort();
    await done;
    // The last state and receipt went out over the tunnel before it closed, and nothing is left running.
    expect(states().at(-1)).toBe('stopped');
    const last = received.at(-1)!;
    expect(last).toMatchObject({ type: 'replica_receipt', replicaId: 'rep_d1' });
    expect(alive(pid)).toBe(false);
  });
});
