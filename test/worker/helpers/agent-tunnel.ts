import { exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import { checkReplicaSpec } from '../../../edge-agent/src/endpoints/replica-spec.ts';
import { identityFromPkcs8, type Identity } from '../../../edge-agent/src/identity.ts';
import { randomNonce, signatureHeaders } from '../../../edge-agent/src/signed-fetch.ts';
import type { MessageAssembler } from '../../../protocol/tunnel-ws.ts';
import {
  FRAME,
  decodeFrame,
  encodeFrame,
  jsonPayload,
  parseJsonPayload,
  readWindow,
  tunnelControlToAgentSchema,
  tunnelHeadSchema,
  tunnelOpenSchema,
  tunnelPath,
  tunnelResetSchema,
  type Frame,
  type FrameType,
  type TunnelControlToWorker,
} from '../../../protocol/tunnel.ts';
import type { TestAgent } from './agent.ts';
import { placeReplica, TunnelPeer } from './tunnel.ts';

// The agent's end of the endpoints tunnel for test/worker/agent-contract-tunnel.test.ts, built from
// the agent's own code where it has it: the upgrade signed with its signatureHeaders and identity,
// frames and control messages put on the socket as its streams and runTunnel put them, and the
// Worker's frames and texts read with the readers its tunnel client and streams use.

/** The agent's end of one tunnel: sends as the agent's code does, and records what it sent. */
export class AgentEnd {
  /** Frame types and control message types this end sent. */
  readonly sent = { frames: new Set<number>(), control: new Set<string>() };

  constructor(
    readonly peer: TunnelPeer,
    readonly identity: Identity,
  ) {}
  /** A frame as the agent's streams send it: encodeFrame's bytes on the socket (tunnel-proxy.ts, tunnel-websocket.ts). */
  frame(bytes: Uint8Array): boolean {
    const decoded = decodeFrame(bytes);
    if ('error' in decoded) throw new Error(decoded.error);
    this.sent.frames.add(decoded.type);
    this.peer.ws.send(bytes);
    return true;
  }
  send(type: FrameType, id: number, payload?: Uint8Array): void {
    this.frame(encodeFrame(type, id, payload));
  }
  head(id: number, status: number, headers: [string, string][] = []): void {
    this.send(FRAME.head, id, jsonPayload(tunnelHeadSchema.parse({ status, headers })));
  }
  reset(id: number, reset: { code: string; message: string; wsCode?: number; wsReason?: string }): void {
    this.send(FRAME.reset, id, jsonPayload(reset));
  }
  /** A control message as runTunnel's `send` puts it on the socket (tunnel-client.ts). */
  control(message: TunnelControlToWorker): void {
    this.sent.control.add(message.type);
    this.peer.ws.send(JSON.stringify(message));
  }
}

/** The tunnel opened as runTunnel opens it: a GET upgrade to tunnelPath, signed with the node's identity. */
export async function openAgentTunnel(node: TestAgent): Promise<AgentEnd> {
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey('pkcs8', node.keyPair.privateKey)) as ArrayBuffer);
  const identity = await identityFromPkcs8(pkcs8);
  expect(identity.nodeId).toBe(node.nodeId);
  const path = tunnelPath(identity.nodeId);
  const headers = await signatureHeaders(identity, {
    method: 'GET',
    pathWithQuery: path,
    body: new Uint8Array(),
    timestampMs: Date.now(),
    nonce: randomNonce(),
  });
  const res = await exports.default.fetch(new Request(`http://gridplane.test${path}`, { headers: { ...headers, Upgrade: 'websocket' } }));
  expect(res.status).toBe(101);
  return new AgentEnd(new TunnelPeer(node, res.webSocket!), identity);
}

/** A node with one replica the control plane placed, its tunnel open, its desired set heard. */
export async function placedReplica(lat: number, lon: number, country: string): Promise<{ agent: AgentEnd; replicaId: string }> {
  const { node, replicaId } = await placeReplica(lat, lon, country);
  const agent = await openAgentTunnel(node);
  await agent.peer.until(() => agent.peer.texts.some((t) => t.includes(replicaId)), 'the desired set');
  return { agent, replicaId };
}

/** A Worker frame read as the agent reads it (tunnel-client.ts, tunnel-proxy.ts, tunnel-websocket.ts); throws where the agent would refuse it. */
export function agentReads(frame: Frame, assembler: () => MessageAssembler): unknown {
  const must = <T>(value: T | null, what: string): T => {
    if (value === null) throw new Error(`the agent cannot read this ${what} frame`);
    return value;
  };
  switch (frame.type) {
    case FRAME.open:
      return must(parseJsonPayload(tunnelOpenSchema, frame.payload), 'open');
    case FRAME.data:
      return frame.payload;
    case FRAME.end:
      return must(frame.payload.byteLength === 0 ? true : null, 'end');
    case FRAME.reset:
      return must(parseJsonPayload(tunnelResetSchema, frame.payload), 'reset');
    case FRAME.window:
      return must(readWindow(frame.payload), 'window');
    case FRAME.message: {
      const result = assembler().push(frame.payload);
      if (result.kind === 'error') throw new Error(`the agent refuses a message frame: ${result.reason}`);
      return result;
    }
    default:
      throw new Error(`the agent has no reader for frame type ${frame.type}`);
  }
}

/** A Worker text read as tunnel-client.ts's onText reads it: the keepalive's `pong`, or a control message (a desired set's specs pass the agent's own check). */
export function agentReadsText(text: string): string {
  if (text === 'pong') return text;
  const message = tunnelControlToAgentSchema.parse(JSON.parse(text));
  if (message.type === 'replicas') for (const spec of message.replicas) expect(checkReplicaSpec(spec)).toMatchObject({ ok: true });
  return message.type;
}
