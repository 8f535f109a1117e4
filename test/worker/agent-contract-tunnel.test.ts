import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { signReplicaReceipt } from '../../edge-agent/src/endpoints/replica-receipt.ts';
import { MessageAssembler, MessageSender, WS_CLOSED, closeReason, type WsMessage } from '../../protocol/tunnel-ws.ts';
import {
  FRAME,
  RESET_CODES,
  TUNNEL_LIMITS,
  tunnelControlToAgentSchema,
  tunnelControlToWorkerSchema,
  windowPayload,
} from '../../protocol/tunnel.ts';
import { TUNNEL_HEADERS } from '../../workers/tunnel/tunnel-http.ts';
import { agentReads, agentReadsText, placedReplica, type AgentEnd } from './helpers/agent-tunnel.ts';
import { concat, sameBytes, viaTunnel } from './helpers/tunnel.ts';

// The agent ↔ Worker contract of the endpoints tunnel (protocol/tunnel.ts, tunnel-ws.ts; the
// jobs half is agent-contract.test.ts), against the real NodeTunnel object over a real WebSocket.
// The agent's end (helpers/agent-tunnel.ts) opens the tunnel signed with the agent's own
// signatureHeaders and sends each frame and control message as the agent's code builds it
// (encodeFrame/jsonPayload/windowPayload, MessageSender, signReplicaReceipt, JSON of a
// TunnelControlToWorker); the Worker must act on each. Every frame and text the Worker sends is
// read with the agent's own readers (decodeFrame, the open/reset schemas, readWindow,
// MessageAssembler, the control schema, checkReplicaSpec). The last case fails when
// protocol/tunnel.ts declares a frame type or control message no case carried, so a new one comes
// with its contract.

/** Every agent end of this file: the last case reads all they received and sent. */
const agents: AgentEnd[] = [];
const placed = async (lat: number, lon: number, country: string) => {
  const placement = await placedReplica(lat, lon, country);
  agents.push(placement.agent);
  return placement;
};

describe('the endpoints tunnel, agent ↔ Worker', () => {
  it("carries the agent's control messages to the record, and the Worker's desired set and keepalive answer to the agent", async () => {
    const { agent, replicaId } = await placed(48.86, 2.35, 'FR');
    const replicaRow = () =>
      env.DB.prepare('SELECT state, receipt_ready_ms AS readyMs FROM endpoint_replicas WHERE id = ?1')
        .bind(replicaId)
        .first<{ state: string; readyMs: number }>();
    // The keepalive is text, as the agent sends it every 20 s.
    agent.peer.ws.send('ping');
    await agent.peer.until(() => agent.peer.texts.includes('pong'), 'pong');
    agent.control({ type: 'replica_state', replicaId, state: 'ready', at: Date.now() });
    await expect.poll(async () => (await replicaRow())!.state).toBe('ready');
    agent.control(await signReplicaReceipt(agent.identity, replicaId, 1_234, Date.now()));
    await expect.poll(async () => (await replicaRow())!.readyMs).toBe(1_234);
    // An answer to a ping changes nothing and keeps the socket: the next keepalive still gets its answer.
    agent.control({ type: 'pong', at: Date.now() });
    const pongs = agent.peer.texts.filter((t) => t === 'pong').length;
    agent.peer.ws.send('ping');
    await agent.peer.until(() => agent.peer.texts.filter((t) => t === 'pong').length > pongs, 'a second pong');
    expect(agent.peer.closed).toBeNull();
  });

  it('carries an HTTP request and its response with every frame each way, windows included', async () => {
    const { agent, replicaId } = await placed(52.52, 13.4, 'DE');
    const { peer } = agent;
    // A body over one window: the Worker sends the first MiB, then waits for the agent's grant.
    const body = new Uint8Array(TUNNEL_LIMITS.initialWindow + 200 * 1024).map((_, i) => i % 251);
    const pending = viaTunnel(peer.agent.nodeId, replicaId, '/v1/embeddings?x=1', { method: 'POST', body });
    const { id, open } = await peer.open();
    expect(open).toMatchObject({ replicaId, method: 'POST', path: '/v1/embeddings?x=1' });
    await peer.until(() => peer.received(id) === TUNNEL_LIMITS.initialWindow, 'the body up to the window');
    agent.send(FRAME.window, id, windowPayload(TUNNEL_LIMITS.initialWindow / 2));
    await peer.until(() => peer.framesOf(FRAME.end, id)[0], 'END of the body');
    expect(sameBytes(concat(peer.framesOf(FRAME.data, id).map((f) => f.payload)), body)).toBe(true);

    // The response: head, more than a quarter window of data, end; reading it earns the agent window back.
    agent.head(id, 200, [['content-type', 'application/octet-stream']]);
    const answer = new Uint8Array(5 * TUNNEL_LIMITS.maxFramePayload).map((_, i) => (i * 7) % 256);
    for (let at = 0; at < answer.byteLength; at += TUNNEL_LIMITS.maxFramePayload)
      agent.send(FRAME.data, id, answer.subarray(at, at + TUNNEL_LIMITS.maxFramePayload));
    agent.send(FRAME.end, id);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(sameBytes(new Uint8Array(await res.arrayBuffer()), answer)).toBe(true);
    await peer.until(() => peer.granted(id) > 0, 'a window grant from the Worker');

    // The agent's reset before a head: nothing reached the replica, so the gateway may try elsewhere.
    const refused = viaTunnel(peer.agent.nodeId, replicaId, '/v1/models');
    const second = await peer.open(1);
    agent.reset(second.id, { code: RESET_CODES.replicaUnreachable, message: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:8000' });
    const failed = await refused;
    expect(failed.status).toBe(502);
    expect(failed.headers.get(TUNNEL_HEADERS.requestSent)).toBe('0');

    // The Worker's reset: the caller went away mid-response.
    const leaving = viaTunnel(peer.agent.nodeId, replicaId, '/v1/completions');
    const third = await peer.open(2);
    agent.head(third.id, 200);
    agent.send(FRAME.data, third.id, new TextEncoder().encode('data: one\n\n'));
    const reader = (await leaving).body!.getReader();
    await reader.read();
    await reader.cancel();
    expect(await peer.reset(third.id)).toMatchObject({ code: RESET_CODES.callerGone });
  });

  it('carries a WebSocket stream: MESSAGE frames each way and the close codes in RESET ws_closed', async () => {
    const { agent, replicaId } = await placed(35.68, 139.69, 'JP');
    const { peer } = agent;
    const upgrade = async (n: number) => {
      const pending = viaTunnel(peer.agent.nodeId, replicaId, '/terminals/websocket/1', { headers: { upgrade: 'websocket' } });
      const { id, open } = await peer.open(n);
      expect(open.upgrade).toBe('websocket');
      agent.head(id, 101);
      const res = await pending;
      expect(res.status).toBe(101);
      const caller = res.webSocket!;
      const got: WsMessage[] = [];
      let closed: number | null = null;
      caller.accept();
      caller.binaryType = 'arraybuffer';
      caller.addEventListener('message', (e) => {
        got.push(typeof e.data === 'string' ? e.data : new Uint8Array(e.data as ArrayBuffer));
        peer.poke();
      });
      caller.addEventListener('close', (e) => {
        closed = e.code;
        peer.poke();
      });
      return { id, caller, got, closed: () => closed };
    };

    const first = await upgrade(0);
    first.caller.send('["stdin", "ls\\r"]');
    first.caller.send(new Uint8Array(100 * 1024).fill(3));
    // Whole messages, put back together from the MESSAGE frames so far as the agent's ReplicaSocketStream does.
    const atAgent = () => {
      const assembler = new MessageAssembler();
      return peer.framesOf(FRAME.message, first.id).flatMap((f) => {
        const r = assembler.push(f.payload);
        return r.kind === 'message' ? [r.message] : [];
      });
    };
    const messages = await peer.until(() => {
      const all = atAgent();
      return all.length === 2 ? all : null;
    }, 'two messages at the agent');
    expect(messages[0]).toBe('["stdin", "ls\\r"]');
    expect(messages[1]).toEqual(new Uint8Array(100 * 1024).fill(3));
    // The agent's side sends as its ReplicaSocketStream does: MessageSender over the stream's window.
    const sender = new MessageSender(first.id, (frame) => agent.frame(frame));
    expect(sender.send('["stdout", "README.md\\r\\n"]')).toBe('sent');
    await peer.until(() => first.got.length === 1, 'the message at the caller');
    expect(first.got[0]).toBe('["stdout", "README.md\\r\\n"]');
    first.caller.close(4000, 'tab closed');
    expect(await peer.reset(first.id)).toMatchObject({ code: WS_CLOSED, wsCode: 4000, wsReason: 'tab closed' });

    // The replica closes: the agent's RESET ws_closed carries its code to the caller.
    const second = await upgrade(1);
    agent.reset(second.id, { code: WS_CLOSED, message: 'the replica closed the WebSocket', wsCode: 4321, wsReason: closeReason('bye') });
    expect(await peer.until(() => second.closed(), "the caller's close")).toBe(4321);
  });

  it('carried every frame type and control message protocol/tunnel.ts declares, each in the direction it may go', () => {
    // Everything the Worker sent in this file, read again in order with the agent's readers.
    const carried = {
      agentFrames: new Set<number>(),
      agentControl: new Set<string>(),
      workerFrames: new Set<number>(),
      workerControl: new Set<string>(),
    };
    for (const { peer, sent } of agents) {
      for (const type of sent.frames) carried.agentFrames.add(type);
      for (const type of sent.control) carried.agentControl.add(type);
      const assemblers = new Map<number, MessageAssembler>();
      for (const frame of peer.frames) {
        agentReads(
          frame,
          () => assemblers.get(frame.streamId) ?? assemblers.set(frame.streamId, new MessageAssembler()).get(frame.streamId)!,
        );
        carried.workerFrames.add(frame.type);
      }
      for (const text of peer.texts) carried.workerControl.add(agentReadsText(text));
    }
    const frameTypes = Object.values(FRAME) as number[];
    const controlTypes = (schema: typeof tunnelControlToAgentSchema | typeof tunnelControlToWorkerSchema) =>
      schema.options.map((option) => option.shape.type.value as string);
    // The Worker opens streams, the agent answers them (an OPEN from the agent closes its socket, HEAD is the answer's).
    expect([...carried.workerFrames].sort()).toEqual(frameTypes.filter((t) => t !== FRAME.head).sort());
    expect([...carried.agentFrames].sort()).toEqual(frameTypes.filter((t) => t !== FRAME.open).sort());
    expect([...carried.agentControl].sort()).toEqual(controlTypes(tunnelControlToWorkerSchema).sort());
    // `ping` is declared for the Worker but never sent by it: the keepalive is the agent's text
    // `ping`, which the runtime answers with the text `pong` (carried here beside the schema's types).
    expect([...carried.workerControl].sort()).toEqual(
      [...controlTypes(tunnelControlToAgentSchema).filter((t) => t !== 'ping'), 'pong'].sort(),
    );
  });
});
