// WebSocket streams on the endpoints tunnel (protocol/tunnel.ts): a caller's `Upgrade: websocket`
// request to a replica (notebook kernels, web terminals) travels as an OPEN with
// `upgrade: 'websocket'`; the agent opens a WebSocket to the replica on loopback and answers HEAD
// 101 (or the replica's own non-101 answer, as an HTTP response). After the 101 both directions
// carry MESSAGE frames, which keep each message's boundaries and whether it is text or binary:
// payload byte 0 is flags (`WS_FLAG`), the rest a piece of the message; a message larger than
// one frame is cut into pieces, the last one flagged `final`. Both directions are flow-controlled
// with WINDOW frames like bodies (a frame's whole payload, flag byte included, counts). Either
// side ending the WebSocket sends RESET `ws_closed` with the close code and reason, which the
// other side passes on; any other RESET ends it too (1011 to the socket).
import { FRAME, TUNNEL_LIMITS, encodeFrame } from './tunnel.ts';

export const WS_FLAG = {
  /** The message is binary (else UTF-8 text). Every piece of one message carries the same. */
  binary: 1,
  /** The last piece of a message. */
  final: 2,
} as const;

export const WS_LIMITS = {
  /**
   * Largest message either way (1 MiB): the size Cloudflare accepts from a WebSocket client, and
   * what a stream's window holds, so one message never needs more than one window. Bigger ones
   * close the socket with 1009 (message too big).
   */
  maxMessage: 1024 * 1024,
  /**
   * Messages a side holds for a peer that has not granted window yet (2 MiB per stream). A
   * browser socket cannot be paused, so a caller that sends faster than the replica reads is
   * closed (1008) past this instead of filling the tunnel object's memory.
   */
  maxBuffered: 2 * 1024 * 1024,
} as const;

/** Reset code of a WebSocket stream that ended normally: one side's socket closed. */
export const WS_CLOSED = 'ws_closed';
/** Largest piece of a message per frame (the frame's payload less the flag byte). */
const PIECE = TUNNEL_LIMITS.maxFramePayload - 1;

const encoder = new TextEncoder();

export type WsMessage = string | Uint8Array;

/** The MESSAGE frames' payloads of one message, in order. */
export function messagePayloads(message: WsMessage): Uint8Array[] {
  const binary = typeof message !== 'string';
  const bytes = binary ? message : encoder.encode(message);
  const out: Uint8Array[] = [];
  for (let at = 0; at === 0 || at < bytes.byteLength; at += PIECE) {
    const piece = bytes.subarray(at, at + PIECE);
    const payload = new Uint8Array(piece.byteLength + 1);
    payload[0] = (binary ? WS_FLAG.binary : 0) | (at + PIECE >= bytes.byteLength ? WS_FLAG.final : 0);
    payload.set(piece, 1);
    out.push(payload);
  }
  return out;
}

/** A close code a WebSocket may send on: the peer's code when it is one, else 1000 (no code) or 1011 (broken). */
export function sendableCloseCode(code: number | undefined): number {
  if (code === undefined || code === 1005) return 1000;
  if (code === 1000 || (code >= 1001 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)) return code;
  return 1011;
}

/** Close reasons are at most 123 bytes (RFC 6455 §5.5); cut on a character boundary. */
export function closeReason(reason: string): string {
  let out = reason;
  while (encoder.encode(out).byteLength > 123) out = out.slice(0, -1);
  return out;
}

export type AssembleResult =
  | { kind: 'partial' }
  | { kind: 'message'; message: WsMessage }
  | { kind: 'error'; closeCode: number; reason: string };

/** Puts MESSAGE payloads back into messages, refusing one over `WS_LIMITS.maxMessage` or text that is not UTF-8. */
export class MessageAssembler {
  private pieces: Uint8Array[] = [];
  private size = 0;
  private binary: boolean | null = null;

  push(payload: Uint8Array): AssembleResult {
    if (payload.byteLength < 1 || (payload[0]! & ~(WS_FLAG.binary | WS_FLAG.final)) !== 0)
      return { kind: 'error', closeCode: 1002, reason: 'a malformed message frame' };
    const binary = (payload[0]! & WS_FLAG.binary) !== 0;
    if (this.binary !== null && this.binary !== binary)
      return { kind: 'error', closeCode: 1002, reason: 'a message that changed kind mid-way' };
    this.binary = binary;
    this.size += payload.byteLength - 1;
    if (this.size > WS_LIMITS.maxMessage) return { kind: 'error', closeCode: 1009, reason: `a message over ${WS_LIMITS.maxMessage} bytes` };
    this.pieces.push(payload.subarray(1));
    if ((payload[0]! & WS_FLAG.final) === 0) return { kind: 'partial' };
    const bytes = this.pieces.length === 1 ? this.pieces[0]! : join(this.pieces, this.size);
    this.pieces = [];
    this.size = 0;
    this.binary = null;
    if (binary) return { kind: 'message', message: bytes.slice() };
    try {
      return { kind: 'message', message: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes) };
    } catch {
      return { kind: 'error', closeCode: 1007, reason: 'a text message that is not UTF-8' };
    }
  }
}

function join(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * The sending half of a WebSocket stream: messages cut into MESSAGE frames, sent while the peer's
 * window allows, held (up to `WS_LIMITS.maxBuffered`) while it does not. `onDrained` tells the
 * owner it may read from its own socket again (the agent pauses the replica's socket meanwhile).
 */
export class MessageSender {
  private window: number = TUNNEL_LIMITS.initialWindow;
  private readonly queue: Uint8Array[] = [];
  private queued = 0;

  constructor(
    private readonly streamId: number,
    private readonly sendFrame: (frame: Uint8Array) => boolean,
  ) {}

  /** 'sent' (all of it went out), 'held' (waiting for window), 'too_large', 'over_buffer' or 'gone' (the tunnel socket is closed). */
  send(message: WsMessage): 'sent' | 'held' | 'too_large' | 'over_buffer' | 'gone' {
    const payloads = messagePayloads(message);
    const size = payloads.reduce((n, p) => n + p.byteLength - 1, 0);
    if (size > WS_LIMITS.maxMessage) return 'too_large';
    const bytes = payloads.reduce((n, p) => n + p.byteLength, 0);
    if (this.queued + bytes > WS_LIMITS.maxBuffered) return 'over_buffer';
    this.queue.push(...payloads);
    this.queued += bytes;
    return this.flush();
  }

  /** The peer granted window; false when the grant is malformed (the stream is reset). */
  grant(bytes: number): boolean {
    if (this.window + bytes > 2 ** 31) return false;
    this.window += bytes;
    this.flush();
    return true;
  }

  /** Whether messages wait for window. */
  holding(): boolean {
    return this.queue.length > 0;
  }

  private flush(): 'sent' | 'held' | 'gone' {
    while (this.queue.length > 0 && this.window >= this.queue[0]!.byteLength) {
      const payload = this.queue.shift()!;
      this.queued -= payload.byteLength;
      this.window -= payload.byteLength;
      if (!this.sendFrame(encodeFrame(FRAME.message, this.streamId, payload))) return 'gone';
    }
    return this.queue.length > 0 ? 'held' : 'sent';
  }
}

/**
 * The receiving half's window: bytes are granted back once consumed, in pieces of a quarter
 * window (as bodies are), so the sender (whose pieces are at most one frame) never waits on them.
 */
export class WindowKeeper {
  private allowance: number = TUNNEL_LIMITS.initialWindow;
  private consumed = 0;

  constructor(private readonly grant: (bytes: number) => void) {}

  /** A frame arrived: false when it overran the window (protocol error). */
  receive(bytes: number): boolean {
    if (bytes > this.allowance) return false;
    this.allowance -= bytes;
    return true;
  }

  consume(bytes: number): void {
    this.consumed += bytes;
    if (this.consumed < TUNNEL_LIMITS.initialWindow / 4) return;
    this.allowance += this.consumed;
    this.grant(this.consumed);
    this.consumed = 0;
  }
}
