// The tunnel's wire format (protocol/tunnel.ts) and the edge's header rules (workers/tunnel/tunnel-http.ts):
// both ends build on these, so each rule is pinned here byte for byte.
import { describe, expect, it } from 'vitest';
import {
  FRAME,
  TUNNEL_LIMITS,
  decodeFrame,
  encodeFrame,
  jsonPayload,
  parseJsonPayload,
  readWindow,
  replicaReceiptMessage,
  tunnelHeadSchema,
  tunnelOpenSchema,
  windowPayload,
} from '../../../protocol/tunnel.ts';
import { locationHintNear } from '../../../workers/tunnel/location-hint.ts';
import { requestHeadersForReplica, responseHeadersFromReplica, timeoutFrom, TUNNEL_TIMEOUTS } from '../../../workers/tunnel/tunnel-http.ts';

describe('stream frames', () => {
  it('encode as type, big-endian stream id, payload, and decode back', () => {
    const bytes = encodeFrame(FRAME.data, 0x01020304, new Uint8Array([9, 8, 7]));
    expect([...bytes]).toEqual([FRAME.data, 1, 2, 3, 4, 9, 8, 7]);
    for (const type of Object.values(FRAME)) {
      for (const id of [0, 1, 0xffff_ffff]) {
        const frame = decodeFrame(encodeFrame(type, id, new Uint8Array([type])));
        expect(frame).toEqual({ type, streamId: id, payload: new Uint8Array([type]) });
      }
    }
  });

  it('decode a frame that sits inside a larger buffer (a view with an offset)', () => {
    const outer = new Uint8Array(20);
    outer.set(encodeFrame(FRAME.end, 77), 7);
    expect(decodeFrame(outer.subarray(7, 12))).toEqual({ type: FRAME.end, streamId: 77, payload: new Uint8Array(0) });
  });

  it('refuse to encode an out-of-range stream id or an oversized payload', () => {
    expect(() => encodeFrame(FRAME.data, -1)).toThrow(RangeError);
    expect(() => encodeFrame(FRAME.data, 2 ** 32)).toThrow(RangeError);
    expect(() => encodeFrame(FRAME.data, 1.5)).toThrow(RangeError);
    expect(() => encodeFrame(FRAME.data, 1, new Uint8Array(TUNNEL_LIMITS.maxFramePayload + 1))).toThrow(RangeError);
    expect(encodeFrame(FRAME.data, 1, new Uint8Array(TUNNEL_LIMITS.maxFramePayload)).byteLength).toBe(TUNNEL_LIMITS.maxFramePayload + 5);
  });

  it('name what is wrong with bytes that are not a frame', () => {
    expect(decodeFrame(new Uint8Array([FRAME.data, 0, 0, 0]))).toEqual({ error: 'frame shorter than its header' });
    expect(decodeFrame(new Uint8Array([0, 0, 0, 0, 1]))).toEqual({ error: 'unknown frame type 0' });
    expect(decodeFrame(new Uint8Array([99, 0, 0, 0, 1]))).toEqual({ error: 'unknown frame type 99' });
    expect(decodeFrame(new Uint8Array(5 + TUNNEL_LIMITS.maxFramePayload + 1).fill(FRAME.data, 0, 1))).toEqual({
      error: 'frame payload over the limit',
    });
  });

  it('carry window grants as a u32 and refuse any other length', () => {
    for (const n of [0, 1, TUNNEL_LIMITS.initialWindow, 0xffff_ffff]) expect(readWindow(windowPayload(n))).toBe(n);
    expect(readWindow(new Uint8Array(3))).toBeNull();
    expect(readWindow(new Uint8Array(5))).toBeNull();
  });
});

describe('JSON payloads', () => {
  const open = { replicaId: 'rep_1', method: 'POST', path: '/v1/chat?x=1', headers: [['content-type', 'application/json']] };

  it('round-trip through their schema', () => {
    expect(parseJsonPayload(tunnelOpenSchema, jsonPayload(open))).toEqual(open);
  });

  it('parse to null when not JSON, not the schema, or over the head limit', () => {
    const enc = new TextEncoder();
    expect(parseJsonPayload(tunnelOpenSchema, enc.encode('{not json'))).toBeNull();
    expect(parseJsonPayload(tunnelOpenSchema, jsonPayload({ ...open, method: 'get' }))).toBeNull();
    expect(parseJsonPayload(tunnelOpenSchema, jsonPayload({ ...open, path: 'no-slash' }))).toBeNull();
    expect(parseJsonPayload(tunnelHeadSchema, jsonPayload({ status: 99, headers: [] }))).toBeNull();
    expect(parseJsonPayload(tunnelOpenSchema, enc.encode(' '.repeat(TUNNEL_LIMITS.maxHeadBytes + 1)))).toBeNull();
  });

  it('refuse to build one over the head limit', () => {
    expect(() => jsonPayload({ big: 'x'.repeat(TUNNEL_LIMITS.maxHeadBytes) })).toThrow(RangeError);
  });

  it('receipts sign fixed lines', () => {
    expect(replicaReceiptMessage('Node1', 'rep_1', 1500, 42)).toBe('gridplane-replica-receipt/v1\nNode1\nrep_1\n1500\n42');
  });
});

describe('headers at the edge', () => {
  it('the replica gets the caller headers less credentials, hop-by-hop, ours and the edge’s', () => {
    const headers = new Headers({
      cookie: 'session=abc',
      'content-type': 'application/json',
      authorization: 'Bearer ep-key',
      'x-gridplane-key': 'k',
      'gridplane-replica': 'rep_1',
      'x-gridplane-node': 'n',
      'cf-connecting-ip': '203.0.113.7',
      connection: 'keep-alive',
      'content-length': '12',
      host: 'api.example',
    });
    expect(requestHeadersForReplica(headers)).toEqual([
      ['content-type', 'application/json'],
      ['cookie', 'session=abc'],
    ]);
  });

  it('the caller gets the replica headers less hop-by-hop ones and anything named like ours', () => {
    const out = responseHeadersFromReplica([
      ['Content-Type', 'text/event-stream'],
      ['Set-Cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['Transfer-Encoding', 'chunked'],
      ['gridplane-tunnel-error', 'tunnel_down'],
      ['Gridplane-Request-Sent', '0'],
      ['bad header name', 'x'],
    ]);
    expect([...out.entries()]).toEqual([
      ['content-type', 'text/event-stream'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
  });

  it('a gateway may shorten or lengthen a timeout within the bound, and garbage means the default', () => {
    const h = (v: string) => new Headers({ t: v });
    expect(timeoutFrom(h('1500'), 't', 30_000)).toBe(1500);
    expect(timeoutFrom(h('999999999'), 't', 30_000)).toBe(TUNNEL_TIMEOUTS.maxMs);
    expect(timeoutFrom(h('0'), 't', 30_000)).toBe(1);
    expect(timeoutFrom(h('-5'), 't', 30_000)).toBe(30_000);
    expect(timeoutFrom(h('1e3'), 't', 30_000)).toBe(30_000);
    expect(timeoutFrom(new Headers(), 't', 30_000)).toBe(30_000);
  });
});

describe('location hints for a node’s tunnel object', () => {
  it('pick the region of well-known cities', () => {
    const cases: [string, number, number, string][] = [
      ['Paris', 48.86, 2.35, 'weur'],
      ['Warsaw', 52.23, 21.01, 'eeur'],
      ['New York', 40.71, -74.0, 'enam'],
      ['San Francisco', 37.77, -122.42, 'wnam'],
      ['São Paulo', -23.55, -46.63, 'sam'],
      ['Tokyo', 35.68, 139.69, 'apac'],
      ['Singapore', 1.35, 103.82, 'apac'],
      ['Sydney', -33.87, 151.21, 'oc'],
      ['Lagos', 6.52, 3.38, 'afr'],
      ['Johannesburg', -26.2, 28.05, 'afr'],
      ['Dubai', 25.2, 55.27, 'me'],
      ['Mumbai', 19.08, 72.88, 'apac'],
    ];
    expect(cases.map(([city, lat, lon]) => [city, locationHintNear({ lat, lon })])).toEqual(cases.map(([city, , , hint]) => [city, hint]));
  });
});
