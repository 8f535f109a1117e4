// One proxied request on a node's tunnel, seen from the Worker: sends the request (OPEN, the body
// in DATA frames within the agent's window, END), turns HEAD + DATA frames into a streaming
// Response, grants the agent window as the caller reads, and ends in exactly one way (the
// response ended, the caller went away, or a failure with a named reason).
import {
  FRAME,
  RESET_BEFORE_REPLICA,
  RESET_CODES,
  TUNNEL_LIMITS,
  encodeFrame,
  jsonPayload,
  parseJsonPayload,
  readWindow,
  tunnelHeadSchema,
  windowPayload,
  tunnelResetSchema,
  type Frame,
} from '../../protocol/tunnel.ts';
import { responseHeadersFromReplica, tunnelErrorResponse, type TunnelFailure } from './tunnel-http.ts';

export type StreamOutcome = 'completed' | 'failed' | 'cancelled';

export interface StreamHost {
  /** Sends a frame on the stream's socket; throws when the socket is gone. */
  send(frame: Uint8Array): void;
  /** Called once, when the stream is over as far as the tunnel is concerned. */
  finished(stream: ProxiedStream, outcome: StreamOutcome): void;
}

/** What the tunnel object holds per open stream: an HTTP request (below) or a WebSocket (tunnel-websocket.ts). */
export interface ProxiedStream {
  readonly id: number;
  readonly replicaId: string;
  onFrame(frame: Frame): void;
  socketGone(failure: TunnelFailure): void;
}

export interface StreamTimeouts {
  headMs: number;
  idleMs: number;
}

/** Window is granted back in pieces this big, not per chunk: an SSE token is not worth a frame of its own. */
const GRANT_EVERY = TUNNEL_LIMITS.initialWindow / 4;
/** Statuses whose responses have no body (the Fetch API refuses one). */
const NULL_BODY_STATUS = new Set([204, 205, 304]);

export class TunnelStream implements ProxiedStream {
  readonly response: Promise<Response>;
  private resolveResponse!: (response: Response) => void;
  private phase: 'awaiting_head' | 'streaming' | 'ended' | 'done' = 'awaiting_head';
  /** Request body bytes we may still send before the agent grants more. */
  private sendWindow: number = TUNNEL_LIMITS.initialWindow;
  /** Response bytes the agent may still send before we grant more. */
  private recvAllowance: number = TUNNEL_LIMITS.initialWindow;
  private unacked = 0;
  private readonly queue: Uint8Array[] = [];
  private bodyError: Error | null = null;
  private discardBody = false;
  private wakeReader: (() => void) | null = null;
  private wakePump: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private requestReader: ReadableStreamDefaultReader<Uint8Array> | null = null;

  constructor(
    private readonly host: StreamHost,
    readonly id: number,
    readonly replicaId: string,
    private readonly method: string,
    private readonly timeouts: StreamTimeouts,
  ) {
    this.response = new Promise((resolve) => (this.resolveResponse = resolve));
  }

  /** Sends OPEN and starts pumping the body; `response` settles with the head or an error. */
  start(openPayload: Uint8Array, body: ReadableStream<Uint8Array> | null): void {
    try {
      this.host.send(encodeFrame(FRAME.open, this.id, openPayload));
    } catch {
      this.fail({ code: 'tunnel_down', message: "The node's tunnel closed before the request could be sent.", sent: false });
      return;
    }
    this.arm(this.timeouts.headMs, `no response head from the replica within ${this.timeouts.headMs / 1000} s`);
    void this.pump(body);
  }

  /** A frame from the agent for this stream (OPEN never comes here: the socket refuses it). */
  onFrame(frame: Frame): void {
    if (this.phase === 'done') return;
    switch (frame.type) {
      case FRAME.head:
        return this.onHead(frame.payload);
      case FRAME.data:
        return this.onData(frame.payload);
      case FRAME.end:
        return this.onEnd();
      case FRAME.reset:
        return this.onReset(frame.payload);
      case FRAME.window: {
        const granted = readWindow(frame.payload);
        if (granted === null || this.sendWindow + granted > 2 ** 31) return this.protocolError('a malformed or oversized window grant');
        this.sendWindow += granted;
        this.wakePump?.();
        return;
      }
      default:
        return this.protocolError(`frame type ${frame.type} on an open stream`);
    }
  }

  /** The socket is gone (closed, replaced, broken): nothing can be sent to the agent any more. */
  socketGone(failure: TunnelFailure): void {
    // After END the whole response is here: the caller reads it to the end.
    this.fail(failure);
  }

  private onHead(payload: Uint8Array): void {
    if (this.phase !== 'awaiting_head') return this.protocolError('a second response head');
    const head = parseJsonPayload(tunnelHeadSchema, payload);
    if (!head || head.status < 200) return this.protocolError('a malformed response head');
    this.phase = 'streaming';
    this.discardBody = NULL_BODY_STATUS.has(head.status) || this.method === 'HEAD';
    const headers = responseHeadersFromReplica(head.headers);
    const body = this.discardBody
      ? null
      : new ReadableStream<Uint8Array>(
          { pull: (controller) => this.pull(controller), cancel: () => this.callerGone() },
          { highWaterMark: 0 },
        );
    this.arm(this.timeouts.idleMs, this.idleWhat());
    // `manual`: a replica's gzip body is passed as it is, not compressed again by the runtime.
    this.resolveResponse(new Response(body, { status: head.status, headers, encodeBody: 'manual' }));
  }

  private onData(payload: Uint8Array): void {
    if (this.phase !== 'streaming') return this.protocolError('response data outside a response body');
    if (payload.byteLength > this.recvAllowance) return this.protocolError('response data beyond the granted window');
    this.recvAllowance -= payload.byteLength;
    this.arm(this.timeouts.idleMs, this.idleWhat());
    if (this.discardBody) return this.grant(payload.byteLength, true);
    this.queue.push(payload);
    this.wakeReader?.();
  }

  private onEnd(): void {
    if (this.phase !== 'streaming') return this.protocolError('an end before the response head');
    this.phase = 'ended';
    clearTimeout(this.timer);
    this.stopPump();
    this.host.finished(this, 'completed');
    this.wakeReader?.();
  }

  private onReset(payload: Uint8Array): void {
    const reset = parseJsonPayload(tunnelResetSchema, payload) ?? { code: RESET_CODES.protocolError, message: 'a malformed reset' };
    const sent = !(this.phase === 'awaiting_head' && RESET_BEFORE_REPLICA.has(reset.code));
    const code = reset.code === RESET_CODES.replicaUnknown ? 'replica_unknown' : 'replica_failed';
    this.fail({ code, message: `The replica's node reset the request (${reset.code}): ${reset.message}`, sent });
  }

  /** The caller's side of the response: hands out one queued chunk per read, grants window as it goes. */
  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    // A caller that reads is not idle: the idle timeout counts from its latest read, not from a stall of its own making.
    if (this.phase === 'streaming' && this.queue.length === 0) this.arm(this.timeouts.idleMs, this.idleWhat());
    while (this.queue.length === 0 && !this.bodyError && this.phase === 'streaming') {
      await new Promise<void>((resolve) => (this.wakeReader = resolve));
      this.wakeReader = null;
    }
    const chunk = this.queue.shift();
    if (chunk) {
      controller.enqueue(chunk);
      if (this.phase === 'streaming') this.grant(chunk.byteLength, false);
    } else if (this.bodyError) controller.error(this.bodyError);
    else controller.close();
  }

  private grant(bytes: number, now: boolean): void {
    this.unacked += bytes;
    if (this.unacked < GRANT_EVERY && !now) return;
    this.recvAllowance += this.unacked;
    this.trySend(FRAME.window, windowPayload(this.unacked));
    this.unacked = 0;
  }

  private callerGone(): void {
    if (this.phase === 'done' || this.phase === 'ended') return;
    this.trySend(FRAME.reset, jsonPayload({ code: RESET_CODES.callerGone, message: 'the caller went away' }));
    this.finish('cancelled', null);
  }

  /** The request body, in frames no bigger than the limit and never beyond the agent's window. */
  private async pump(body: ReadableStream<Uint8Array> | null): Promise<void> {
    if (!body) return void this.trySend(FRAME.end);
    const reader = body.getReader();
    this.requestReader = reader;
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (!this.pumping()) return;
        if (done) return void this.trySend(FRAME.end);
        total += value.byteLength;
        if (total > TUNNEL_LIMITS.maxRequestBody) {
          const message = `The request body is over ${TUNNEL_LIMITS.maxRequestBody} bytes.`;
          return this.fail({ code: 'body_too_large', message, sent: true }, RESET_CODES.bodyTooLarge);
        }
        for (let offset = 0; offset < value.byteLength; ) {
          while (this.sendWindow === 0 && this.pumping()) {
            await new Promise<void>((resolve) => (this.wakePump = resolve));
            this.wakePump = null;
          }
          if (!this.pumping()) return;
          const n = Math.min(value.byteLength - offset, this.sendWindow, TUNNEL_LIMITS.maxFramePayload);
          this.host.send(encodeFrame(FRAME.data, this.id, value.subarray(offset, offset + n)));
          this.sendWindow -= n;
          offset += n;
        }
      }
    } catch {
      if (this.pumping())
        this.fail({ code: 'bad_request', message: 'The request body could not be read to the end.', sent: true }, RESET_CODES.callerGone);
    }
  }

  private pumping(): boolean {
    return this.phase === 'awaiting_head' || this.phase === 'streaming';
  }

  private stopPump(): void {
    this.wakePump?.();
    this.requestReader?.cancel().catch(() => {});
    this.requestReader = null;
  }

  private protocolError(what: string): void {
    this.fail(
      { code: 'tunnel_protocol', message: `The replica's node broke the tunnel protocol: ${what}.`, sent: true },
      RESET_CODES.protocolError,
    );
  }

  /** Ends the stream with an error: an error response before the head, a broken body after it. */
  private fail(failure: TunnelFailure, resetCode?: string): void {
    if (this.phase === 'done' || this.phase === 'ended') return;
    if (resetCode) this.trySend(FRAME.reset, jsonPayload({ code: resetCode, message: failure.message.slice(0, 512) }));
    if (this.phase === 'awaiting_head') this.resolveResponse(tunnelErrorResponse(failure));
    this.finish('failed', new Error(`${failure.code}: ${failure.message}`));
  }

  private finish(outcome: StreamOutcome, error: Error | null): void {
    const wasOpen = this.phase !== 'ended';
    this.phase = 'done';
    clearTimeout(this.timer);
    this.stopPump();
    if (error) this.bodyError = error;
    this.wakeReader?.();
    if (wasOpen) this.host.finished(this, outcome);
  }

  private arm(ms: number, what: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => this.fail({ code: 'upstream_timeout', message: `Timed out: ${what}.`, sent: true }, RESET_CODES.upstreamTimeout),
      ms,
    );
  }

  private idleWhat(): string {
    return `no response chunk from the replica within ${this.timeouts.idleMs / 1000} s`;
  }

  private trySend(type: (typeof FRAME)[keyof typeof FRAME], payload?: Uint8Array): void {
    try {
      this.host.send(encodeFrame(type, this.id, payload));
    } catch {
      // The socket is gone; its close handler fails what is still open.
    }
  }
}
