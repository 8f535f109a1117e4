// One WebSocket stream on the agent (protocol/tunnel-ws.ts): the Worker's OPEN with
// `upgrade: 'websocket'` becomes a `ws` WebSocket to the replica on 127.0.0.1. Opened: HEAD 101,
// then messages relay both ways as MESSAGE frames. Refused (the replica answered HTTP): its status,
// headers and body (bounded) go back as HEAD, DATA, END. Flow control: the replica's socket is
// paused while the Worker's window is full, and the Worker's window is granted back once a message
// was written to the replica's socket. Either side closing ends the stream with RESET `ws_closed`
// and the close code.
import { WebSocket as WsWebSocket, type RawData } from 'ws';
import type http from 'node:http';
import {
  FRAME,
  RESET_CODES,
  STRIPPED_REQUEST_HEADERS,
  STRIPPED_RESPONSE_HEADERS,
  TUNNEL_LIMITS,
  encodeFrame,
  jsonPayload,
  parseJsonPayload,
  readWindow,
  tunnelResetSchema,
  windowPayload,
  type Frame,
  type FrameType,
  type TunnelOpen,
} from '../../../protocol/tunnel.ts';
import {
  MessageAssembler,
  MessageSender,
  WS_CLOSED,
  WS_LIMITS,
  WindowKeeper,
  closeReason,
  sendableCloseCode,
} from '../../../protocol/tunnel-ws.ts';
import type { StreamPeer } from './tunnel-proxy.ts';

/** The replica's answer to the upgrade, by then: a handshake that takes longer is a failed replica. */
const HANDSHAKE_MS = 30_000;
/** A refusal's body is an error page: at most this much of it is sent back. */
const REFUSAL_BODY_MAX = 256 * 1024;

export class ReplicaSocketStream {
  private readonly ws: WsWebSocket;
  private phase: 'connecting' | 'open' | 'done' = 'connecting';
  private readonly assembler = new MessageAssembler();
  private readonly keeper: WindowKeeper;
  private readonly sender: MessageSender;
  /** Bytes of the message being put together, granted back once it is written to the replica. */
  private pendingMessageBytes = 0;
  private errorCode: number | undefined;

  constructor(
    readonly id: number,
    open: TunnelOpen,
    port: number,
    private readonly peer: StreamPeer,
  ) {
    this.keeper = new WindowKeeper((bytes) => this.send(FRAME.window, windowPayload(bytes)));
    this.sender = new MessageSender(id, (frame) => peer.send(frame));
    const { headers, protocols } = replicaHandshake(open.headers);
    this.ws = new WsWebSocket(`ws://127.0.0.1:${port}${open.path}`, protocols, {
      headers,
      maxPayload: WS_LIMITS.maxMessage,
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_MS,
    });
    this.ws.on('open', () => {
      if (this.phase !== 'connecting') return void this.ws.terminate();
      this.phase = 'open';
      this.send(FRAME.head, jsonPayload({ status: 101, headers: this.ws.protocol ? [['sec-websocket-protocol', this.ws.protocol]] : [] }));
    });
    this.ws.on('unexpected-response', (_req, res) => this.refused(res));
    this.ws.on('message', (data: RawData, isBinary: boolean) => this.fromReplica(data, isBinary));
    this.ws.on('error', (err: NodeJS.ErrnoException & { [key: symbol]: unknown }) => {
      if (this.phase === 'connecting') {
        // Refused: nothing listens on the port, so nothing reached the replica (the Worker may retry elsewhere).
        return this.reset(
          err.code === 'ECONNREFUSED' ? RESET_CODES.replicaUnreachable : RESET_CODES.replicaFailed,
          `${err.code ?? 'error'}: ${err.message}`,
        );
      }
      // `ws` closes the socket itself on a limit (1009 for a message over maxPayload); the close event may only say 1006.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.errorCode = 1009;
    });
    this.ws.on('close', (code: number, reason: Buffer) => {
      if (this.phase !== 'open') return;
      const wsCode = sendableCloseCode(code === 1006 && this.errorCode ? this.errorCode : code);
      this.send(
        FRAME.reset,
        jsonPayload({ code: WS_CLOSED, message: 'the replica closed the WebSocket', wsCode, wsReason: closeReason(reason.toString()) }),
      );
      this.finish();
    });
  }

  onFrame(frame: Frame): void {
    if (this.phase === 'done') return;
    switch (frame.type) {
      case FRAME.message:
        return this.onMessage(frame.payload);
      case FRAME.window: {
        const granted = readWindow(frame.payload);
        if (granted === null || !this.sender.grant(granted)) return this.reset(RESET_CODES.protocolError, 'a malformed window grant');
        if (!this.sender.holding() && this.phase === 'open') this.ws.resume();
        return;
      }
      case FRAME.reset: {
        const reset = parseJsonPayload(tunnelResetSchema, frame.payload);
        // The caller closed: the replica's socket closes with the caller's code. Anything else: going away.
        if (reset?.code === WS_CLOSED) this.closeReplica(sendableCloseCode(reset.wsCode), reset.wsReason ?? '');
        else this.closeReplica(1001, reset?.code ?? 'reset');
        return this.finish();
      }
      default:
        return this.reset(RESET_CODES.protocolError, `frame type ${frame.type} on a WebSocket stream`);
    }
  }

  abort(): void {
    this.closeReplica(1001, "the node's tunnel closed");
    this.finish();
  }

  private onMessage(payload: Uint8Array): void {
    if (this.phase !== 'open' || !this.keeper.receive(payload.byteLength))
      return this.reset(RESET_CODES.protocolError, 'a message outside the open socket or beyond the window');
    const result = this.assembler.push(payload);
    if (result.kind === 'error') {
      this.send(
        FRAME.reset,
        jsonPayload({ code: WS_CLOSED, message: result.reason, wsCode: result.closeCode, wsReason: closeReason(result.reason) }),
      );
      this.closeReplica(result.closeCode, result.reason);
      return this.finish();
    }
    this.pendingMessageBytes += payload.byteLength;
    if (result.kind === 'partial') return;
    const bytes = this.pendingMessageBytes;
    this.pendingMessageBytes = 0;
    // Granted back once written to the replica's socket: a replica that reads slowly holds the caller back.
    this.ws.send(result.message, { binary: typeof result.message !== 'string' }, () => {
      if (this.phase !== 'done') this.keeper.consume(bytes);
    });
  }

  private fromReplica(data: RawData, isBinary: boolean): void {
    if (this.phase !== 'open') return;
    const bytes = asBytes(data);
    const sent = this.sender.send(isBinary ? bytes : new TextDecoder().decode(bytes));
    if (sent === 'held') this.ws.pause();
    else if (sent === 'over_buffer' || sent === 'too_large') {
      this.send(
        FRAME.reset,
        jsonPayload({ code: WS_CLOSED, message: 'the replica sent more than the tunnel holds', wsCode: 1008, wsReason: 'over the buffer' }),
      );
      this.closeReplica(1008, 'the caller reads slower than this socket sends');
      this.finish();
    }
  }

  /** The replica answered the upgrade with plain HTTP (a wrong token, a path it does not serve): passed back as it is. */
  private refused(res: http.IncomingMessage): void {
    if (this.phase !== 'connecting') return void res.destroy();
    const headers: [string, string][] = [];
    for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
      if (!STRIPPED_RESPONSE_HEADERS.has(res.rawHeaders[i]!.toLowerCase())) headers.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
    }
    this.phase = 'done';
    this.send(FRAME.head, jsonPayload({ status: res.statusCode ?? 502, headers }));
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      for (let at = 0; at < chunk.byteLength && size < REFUSAL_BODY_MAX; at += TUNNEL_LIMITS.maxFramePayload) {
        const piece = chunk.subarray(at, Math.min(at + TUNNEL_LIMITS.maxFramePayload, at + REFUSAL_BODY_MAX - size));
        size += piece.byteLength;
        this.send(FRAME.data, piece);
      }
    });
    res.on('end', () => {
      this.send(FRAME.end);
      this.peer.done(this.id);
    });
    res.on('error', () => this.peer.done(this.id));
  }

  private reset(code: string, message: string): void {
    if (this.phase === 'done') return;
    this.send(FRAME.reset, jsonPayload({ code, message: message.slice(0, 512) }));
    this.closeReplica(1011, 'tunnel error');
    this.finish();
  }

  private closeReplica(code: number, reason: string): void {
    try {
      if (this.ws.readyState === WsWebSocket.OPEN) this.ws.close(code, closeReason(reason));
      else this.ws.terminate();
    } catch {
      this.ws.terminate();
    }
  }

  private finish(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.peer.done(this.id);
  }

  private send(type: FrameType, payload?: Uint8Array): boolean {
    return this.peer.send(encodeFrame(type, this.id, payload));
  }
}

/** The caller's headers for the replica's handshake: subprotocols apart (ws sends them), hop-by-hop, credentials and the caller's own handshake left out. */
function replicaHandshake(pairs: readonly (readonly [string, string])[]): { headers: Record<string, string>; protocols: string[] } {
  const headers: Record<string, string> = {};
  const protocols: string[] = [];
  for (const [rawName, value] of pairs) {
    const name = rawName.toLowerCase();
    if (name === 'sec-websocket-protocol')
      protocols.push(
        ...value
          .split(',')
          .map((p) => p.trim())
          .filter((p) => p.length > 0),
      );
    // Repeated cookie headers (HTTP/2 sends each pair apart) join with "; " (RFC 6265 §5.4), others with ", ".
    else if (!STRIPPED_REQUEST_HEADERS.has(name))
      headers[name] = name in headers ? `${headers[name]}${name === 'cookie' ? '; ' : ', '}${value}` : value;
  }
  return { headers, protocols };
}

function asBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
