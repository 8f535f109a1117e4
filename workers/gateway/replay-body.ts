// A caller's request body held so a failover can send it again. Pure (streams only, no Worker
// bindings), so the Node-side unit tests can import it.

/**
 * Request bodies up to this size are kept while the request is tried, so a failover can send
 * them again; a larger (or longer streamed) body goes to one replica only, as it is read once.
 */
export const REPLAY_BODY_MAX = 1024 * 1024;

/** A request body that can be sent more than once (bytes), or once (a stream), or none. */
export type RequestBody = { kind: 'none' } | { kind: 'bytes'; bytes: Uint8Array } | { kind: 'stream'; stream: ReadableStream<Uint8Array> };

/** Reads up to REPLAY_BODY_MAX of the body; a longer one continues as a stream that starts with what was read. */
export async function replayableBody(request: Request, max = REPLAY_BODY_MAX): Promise<RequestBody> {
  if (request.body === null) return { kind: 'none' };
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) return { kind: 'stream', stream: request.body };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > max) return { kind: 'stream', stream: prefixed(chunks, reader) };
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return { kind: 'bytes', bytes };
}

function prefixed(head: Uint8Array[], rest: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = head.shift();
      if (next) return controller.enqueue(next);
      const { done, value } = await rest.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => rest.cancel(reason),
  });
}
