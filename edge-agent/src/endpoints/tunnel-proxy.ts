// One tunnel stream on the agent: the Worker's request, replayed as an HTTP request to the
// replica's port on loopback, and the replica's response sent back as HEAD + DATA + END frames.
// Both directions are flow-controlled (protocol/tunnel.ts `window`): the request body is granted
// back as it is written to the replica's socket, and the response is paused while the Worker has
// not granted room for more, so a slow caller slows the replica instead of filling our memory.
import http from 'node:http';
import {
  FRAME,
  RESET_CODES,
  STRIPPED_REQUEST_HEADERS,
  STRIPPED_RESPONSE_HEADERS,
  TUNNEL_LIMITS,
  encodeFrame,
  jsonPayload,
  readWindow,
  tunnelHeadSchema,
  windowPayload,
  type Frame,
  type FrameType,
  type TunnelOpen,
} from '../../../protocol/tunnel.ts';

export interface StreamPeer {
  /** Sends a frame on the tunnel; false when the socket is gone. */
  send(frame: Uint8Array): boolean;
  /** The stream is over: the tunnel forgets it. */
  done(id: number): void;
}

/** Window is granted back in pieces this big, not per chunk (as the Worker does). */
const GRANT_EVERY = TUNNEL_LIMITS.initialWindow / 4;

export class ReplicaStream {
  private readonly request: http.ClientRequest;
  private response: http.IncomingMessage | null = null;
  private finished = false;
  /** Request body bytes the Worker may still send before we grant more. */
  private recvAllowance: number = TUNNEL_LIMITS.initialWindow;
  private received = 0;
  private ungranted = 0;
  /** Response bytes we may still send before the Worker grants more. */
  private sendWindow: number = TUNNEL_LIMITS.initialWindow;
  /** Response bytes read from the replica and waiting for window. */
  private readonly pending: Buffer[] = [];
  private responseEnded = false;

  constructor(
    readonly id: number,
    open: TunnelOpen,
    port: number,
    private readonly peer: StreamPeer,
  ) {
    this.request = http.request({
      host: '127.0.0.1',
      port,
      method: open.method,
      path: open.path,
      headers: replicaHeaders(open.headers, port),
    });
    this.request.on('response', (res) => this.onResponse(res));
    this.request.on('error', (err: NodeJS.ErrnoException) => {
      if (this.finished) return;
      // Refused: the replica's server is not listening, so nothing reached it (the Worker may retry elsewhere).
      const code = !this.response && err.code === 'ECONNREFUSED' ? RESET_CODES.replicaUnreachable : RESET_CODES.replicaFailed;
      this.reset(code, `${err.code ?? 'error'}: ${err.message}`);
    });
  }

  /** A frame from the Worker for this stream. */
  onFrame(frame: Frame): void {
    if (this.finished) return;
    switch (frame.type) {
      case FRAME.data:
        return this.onData(frame.payload);
      case FRAME.end:
        this.request.end();
        return;
      case FRAME.reset:
        // The caller went away or the Worker gave up: drop the replica's request, answer nothing.
        return this.close();
      case FRAME.window: {
        const granted = readWindow(frame.payload);
        if (granted === null || this.sendWindow + granted > 2 ** 31)
          return this.reset(RESET_CODES.protocolError, 'a malformed window grant');
        this.sendWindow += granted;
        return this.flush();
      }
      default:
        return this.reset(RESET_CODES.protocolError, `frame type ${frame.type} from the Worker on an open stream`);
    }
  }

  /** The tunnel is gone: nothing can be answered any more. */
  abort(): void {
    this.close();
  }

  private onData(payload: Uint8Array): void {
    if (payload.byteLength > this.recvAllowance) return this.reset(RESET_CODES.protocolError, 'request data beyond the granted window');
    this.received += payload.byteLength;
    if (this.received > TUNNEL_LIMITS.maxRequestBody)
      return this.reset(RESET_CODES.bodyTooLarge, `request body over ${TUNNEL_LIMITS.maxRequestBody} bytes`);
    this.recvAllowance -= payload.byteLength;
    const bytes = payload.byteLength;
    // Granted back once the bytes left for the replica's socket: a replica that reads slowly holds the Worker back.
    this.request.write(payload, () => this.grant(bytes));
  }

  private grant(bytes: number): void {
    if (this.finished) return;
    this.ungranted += bytes;
    // Under the threshold the Worker still holds at least 3/4 of its window, so it never waits on these bytes.
    if (this.ungranted < GRANT_EVERY) return;
    this.recvAllowance += this.ungranted;
    this.send(FRAME.window, windowPayload(this.ungranted));
    this.ungranted = 0;
  }

  private onResponse(res: http.IncomingMessage): void {
    if (this.finished) return void res.destroy();
    this.response = res;
    const head = tunnelHeadSchema.safeParse({ status: res.statusCode ?? 502, headers: responseHeaders(res.rawHeaders) });
    let payload: Uint8Array | null = null;
    try {
      payload = head.success ? jsonPayload(head.data) : null;
    } catch {
      payload = null;
    }
    if (!payload || (res.statusCode ?? 0) < 200)
      return this.reset(RESET_CODES.replicaFailed, 'the replica answered a status or headers the tunnel cannot carry');
    this.send(FRAME.head, payload);
    res.on('data', (chunk: Buffer) => {
      this.pending.push(chunk);
      this.flush();
    });
    res.on('end', () => {
      this.responseEnded = true;
      this.flush();
    });
    res.on('error', (err) => this.reset(RESET_CODES.replicaFailed, `the replica's response broke off: ${err.message}`));
  }

  /** Sends what the window allows, in frames no bigger than the limit; pauses the replica while it is full. */
  private flush(): void {
    while (this.pending.length > 0 && this.sendWindow > 0 && !this.finished) {
      const chunk = this.pending[0]!;
      const n = Math.min(chunk.byteLength, this.sendWindow, TUNNEL_LIMITS.maxFramePayload);
      if (!this.send(FRAME.data, chunk.subarray(0, n))) return this.close();
      this.sendWindow -= n;
      if (n === chunk.byteLength) this.pending.shift();
      else this.pending[0] = chunk.subarray(n);
    }
    if (this.finished || !this.response) return;
    if (this.pending.length > 0) this.response.pause();
    else if (this.responseEnded) {
      this.send(FRAME.end);
      this.finish();
    } else this.response.resume();
  }

  private reset(code: string, message: string): void {
    if (this.finished) return;
    this.send(FRAME.reset, jsonPayload({ code, message: message.slice(0, 512) }));
    this.close();
  }

  private close(): void {
    if (this.finished) return;
    this.request.destroy();
    this.response?.destroy();
    this.finish();
  }

  private finish(): void {
    this.finished = true;
    this.pending.length = 0;
    this.peer.done(this.id);
  }

  private send(type: FrameType, payload?: Uint8Array): boolean {
    return this.peer.send(encodeFrame(type, this.id, payload));
  }
}

/** The replica gets the caller's headers less hop-by-hop ones and credentials (the Worker strips them too; this side does not rely on it). */
function replicaHeaders(pairs: readonly (readonly [string, string])[], port: number): string[] {
  // Raw headers (repeated names kept apart) get no Host from Node: the replica's own address is it.
  const flat: string[] = ['host', `127.0.0.1:${port}`];
  const cookies: string[] = [];
  for (const [name, value] of pairs) {
    const lower = name.toLowerCase();
    if (STRIPPED_REQUEST_HEADERS.has(lower)) continue;
    // An HTTP/2 caller sends each cookie pair apart (RFC 9113 §8.2.3); an HTTP/1.1 server wants one
    // Cookie header with the pairs joined by "; " (RFC 6265 §5.4), not "," like other headers.
    if (lower === 'cookie') cookies.push(value);
    else flat.push(name, value);
  }
  if (cookies.length > 0) flat.push('cookie', cookies.join('; '));
  return flat;
}

function responseHeaders(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!STRIPPED_RESPONSE_HEADERS.has(raw[i]!.toLowerCase())) out.push([raw[i]!, raw[i + 1]!]);
  }
  return out;
}
