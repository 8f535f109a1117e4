// One caller's WebSocket on a node's tunnel, seen from the Worker (protocol/tunnel-ws.ts): OPEN
// with `upgrade: 'websocket'`, then the agent's HEAD. 101: the caller's socket is accepted here
// (a WebSocketPair; the gateway hands the client end to the caller) and messages relay both ways
// as MESSAGE frames within the windows. Any other status is the replica's refusal (a wrong token,
// a path it does not serve), answered as an HTTP response. Either side closing ends the stream:
// the caller's close goes to the agent as RESET `ws_closed` with its code, the replica's close
// (or any reset) closes the caller's socket with the replica's code.
import {
  FRAME,
  RESET_BEFORE_REPLICA,
  RESET_CODES,
  encodeFrame,
  jsonPayload,
  parseJsonPayload,
  readWindow,
  tunnelHeadSchema,
  tunnelResetSchema,
  windowPayload,
  type Frame,
} from '../../protocol/tunnel.ts';
import {
  MessageAssembler,
  MessageSender,
  WS_CLOSED,
  WS_LIMITS,
  WindowKeeper,
  closeReason,
  sendableCloseCode,
  type WsMessage,
} from '../../protocol/tunnel-ws.ts';
import { responseHeadersFromReplica, tunnelErrorResponse, type TunnelFailure } from './tunnel-http.ts';
import type { ProxiedStream, StreamHost } from './tunnel-stream.ts';

/** The replica's refusal of an upgrade (its HTTP answer) is kept up to this size: an error page, not a download. */
const REFUSAL_BODY_MAX = 256 * 1024;

export class TunnelWebSocketStream implements ProxiedStream {
  readonly response: Promise<Response>;
  private resolveResponse!: (response: Response) => void;
  private phase: 'awaiting_head' | 'refused' | 'open' | 'done' = 'awaiting_head';
  private timer: ReturnType<typeof setTimeout> | undefined;
  private refusal: { status: number; headers: Headers; body: Uint8Array[]; size: number } | null = null;
  private caller: WebSocket | null = null;
  private readonly assembler = new MessageAssembler();
  private readonly keeper: WindowKeeper;
  private readonly sender: MessageSender;

  constructor(
    private readonly host: StreamHost,
    readonly id: number,
    readonly replicaId: string,
    private readonly headMs: number,
  ) {
    this.response = new Promise((resolve) => (this.resolveResponse = resolve));
    this.keeper = new WindowKeeper((bytes) => this.trySend(FRAME.window, windowPayload(bytes)));
    this.sender = new MessageSender(id, (frame) => this.trySendRaw(frame));
  }

  start(openPayload: Uint8Array): void {
    if (!this.trySendRaw(encodeFrame(FRAME.open, this.id, openPayload))) {
      return this.fail({ code: 'tunnel_down', message: "The node's tunnel closed before the request could be sent.", sent: false });
    }
    this.timer = setTimeout(
      () =>
        this.fail(
          { code: 'upstream_timeout', message: `Timed out: no answer to the upgrade within ${this.headMs / 1000} s.`, sent: true },
          RESET_CODES.upstreamTimeout,
        ),
      this.headMs,
    );
  }

  onFrame(frame: Frame): void {
    if (this.phase === 'done') return;
    switch (frame.type) {
      case FRAME.head:
        return this.onHead(frame.payload);
      case FRAME.data:
        return this.onRefusalData(frame.payload);
      case FRAME.end:
        return this.onRefusalEnd();
      case FRAME.message:
        return this.onMessage(frame.payload);
      case FRAME.window: {
        const granted = readWindow(frame.payload);
        if (this.phase !== 'open' || granted === null || !this.sender.grant(granted))
          return this.protocolError('a window grant out of place');
        return;
      }
      case FRAME.reset:
        return this.onReset(frame.payload);
      default:
        return this.protocolError(`frame type ${frame.type} on a WebSocket stream`);
    }
  }

  socketGone(failure: TunnelFailure): void {
    if (this.phase === 'open') return this.closeCaller(1011, "the replica's node went away", 'failed');
    this.fail(failure);
  }

  private onHead(payload: Uint8Array): void {
    if (this.phase !== 'awaiting_head') return this.protocolError('a second response head');
    const head = parseJsonPayload(tunnelHeadSchema, payload);
    if (!head || (head.status < 200 && head.status !== 101)) return this.protocolError('a malformed response head');
    clearTimeout(this.timer);
    const headers = responseHeadersFromReplica(head.headers);
    if (head.status !== 101) {
      this.phase = 'refused';
      this.refusal = { status: head.status, headers, body: [], size: 0 };
      return;
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    server.accept();
    // Binary messages as bytes (the standard default is Blob, which would need an async read and lose the order).
    server.binaryType = 'arraybuffer';
    this.caller = server;
    this.phase = 'open';
    server.addEventListener('message', (event) =>
      this.fromCaller(typeof event.data === 'string' ? event.data : new Uint8Array(event.data as ArrayBuffer)),
    );
    server.addEventListener('close', (event) => this.callerClosed(event.code, event.reason));
    server.addEventListener('error', () => this.callerClosed(1011, "the caller's socket failed"));
    this.resolveResponse(new Response(null, { status: 101, headers, webSocket: client }));
  }

  private onRefusalData(payload: Uint8Array): void {
    const refusal = this.refusal;
    if (this.phase !== 'refused' || !refusal) return this.protocolError('data outside a response body');
    refusal.size += payload.byteLength;
    if (refusal.size > REFUSAL_BODY_MAX)
      return this.fail(
        { code: 'replica_failed', message: `The replica refused the upgrade with a body over ${REFUSAL_BODY_MAX} bytes.`, sent: true },
        RESET_CODES.replicaFailed,
      );
    refusal.body.push(payload.slice());
  }

  private onRefusalEnd(): void {
    const refusal = this.refusal;
    if (this.phase !== 'refused' || !refusal) return this.protocolError('an end outside a response body');
    const body = new Uint8Array(refusal.size);
    let at = 0;
    for (const part of refusal.body) {
      body.set(part, at);
      at += part.byteLength;
    }
    this.resolveResponse(
      new Response(refusal.status === 204 || refusal.status === 304 ? null : body, { status: refusal.status, headers: refusal.headers }),
    );
    this.finish('completed');
  }

  /** The replica's message, piece by piece: passed to the caller once whole, and its window granted back. */
  private onMessage(payload: Uint8Array): void {
    if (this.phase !== 'open' || !this.keeper.receive(payload.byteLength))
      return this.protocolError('a message outside the open socket or beyond the window');
    const result = this.assembler.push(payload);
    if (result.kind === 'error') return this.closeBoth(result.closeCode, result.reason);
    if (result.kind === 'message') {
      try {
        this.caller!.send(result.message);
      } catch {
        return this.callerClosed(1006, '');
      }
    }
    // The caller's socket takes what it is given (it cannot be paused): consumed once sent on, or held in the assembler (bounded).
    this.keeper.consume(payload.byteLength);
  }

  private fromCaller(message: WsMessage): void {
    if (this.phase !== 'open') return;
    const sent = this.sender.send(message);
    if (sent === 'too_large') return this.closeBoth(1009, `a message over ${WS_LIMITS.maxMessage} bytes`);
    if (sent === 'over_buffer') return this.closeBoth(1008, 'sending faster than the replica reads');
    // 'gone': the tunnel socket closed; its close handler ends this stream.
  }

  private callerClosed(code: number, reason: string): void {
    if (this.phase !== 'open') return;
    const wsCode = sendableCloseCode(code);
    this.trySend(
      FRAME.reset,
      jsonPayload({ code: WS_CLOSED, message: 'the caller closed the WebSocket', wsCode, wsReason: closeReason(reason) }),
    );
    this.closeCaller(wsCode, reason, code === 1006 || code === 1011 ? 'cancelled' : 'completed');
  }

  private onReset(payload: Uint8Array): void {
    const reset = parseJsonPayload(tunnelResetSchema, payload) ?? { code: RESET_CODES.protocolError, message: 'a malformed reset' };
    if (this.phase === 'open') {
      const normal = reset.code === WS_CLOSED;
      return this.closeCaller(
        normal ? sendableCloseCode(reset.wsCode) : 1011,
        normal ? (reset.wsReason ?? '') : `${reset.code}: ${reset.message}`,
        normal ? 'completed' : 'failed',
      );
    }
    const sent = !(this.phase === 'awaiting_head' && RESET_BEFORE_REPLICA.has(reset.code));
    const code = reset.code === RESET_CODES.replicaUnknown ? 'replica_unknown' : 'replica_failed';
    this.fail({ code, message: `The replica's node reset the upgrade (${reset.code}): ${reset.message}`, sent });
  }

  /** A limit or protocol failure on an open socket: both ends close with the same code. */
  private closeBoth(code: number, reason: string): void {
    this.trySend(FRAME.reset, jsonPayload({ code: WS_CLOSED, message: reason, wsCode: code, wsReason: closeReason(reason) }));
    this.closeCaller(code, reason, 'failed');
  }

  private closeCaller(code: number, reason: string, outcome: 'completed' | 'failed' | 'cancelled'): void {
    try {
      this.caller?.close(code, closeReason(reason));
    } catch {
      // already closed
    }
    this.finish(outcome);
  }

  private protocolError(what: string): void {
    const message = `The replica's node broke the tunnel protocol: ${what}.`;
    if (this.phase === 'open') {
      this.trySend(FRAME.reset, jsonPayload({ code: RESET_CODES.protocolError, message }));
      return this.closeCaller(1011, 'tunnel protocol error', 'failed');
    }
    this.fail({ code: 'tunnel_protocol', message, sent: true }, RESET_CODES.protocolError);
  }

  /** Before the socket is open: an error response to the gateway. */
  private fail(failure: TunnelFailure, resetCode?: string): void {
    if (this.phase === 'done') return;
    if (resetCode) this.trySend(FRAME.reset, jsonPayload({ code: resetCode, message: failure.message.slice(0, 512) }));
    this.resolveResponse(tunnelErrorResponse(failure));
    this.finish('failed');
  }

  private finish(outcome: 'completed' | 'failed' | 'cancelled'): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    clearTimeout(this.timer);
    this.host.finished(this, outcome);
  }

  private trySend(type: (typeof FRAME)[keyof typeof FRAME], payload?: Uint8Array): void {
    this.trySendRaw(encodeFrame(type, this.id, payload));
  }

  private trySendRaw(frame: Uint8Array): boolean {
    try {
      this.host.send(frame);
      return true;
    } catch {
      return false;
    }
  }
}
