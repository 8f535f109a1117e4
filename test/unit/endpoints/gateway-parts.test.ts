import { describe, expect, it } from 'vitest';
import {
  callerLocation,
  endpointKeyOf,
  mayRetryElsewhere,
  parseLatLon,
  splitEndpointPath,
} from '../../../workers/gateway/request-parts.ts';
import { ReplicaObservations, ROTATION_COOL_OFF_MS } from '../../../workers/gateway/replica-observations.ts';
import {
  bucketOf,
  FLUSH_INTERVAL_MS,
  MAX_PENDING_ROWS,
  medianFromBuckets,
  TrafficCounters,
} from '../../../workers/gateway/traffic-stats.ts';
import { replayableBody, REPLAY_BODY_MAX } from '../../../workers/gateway/replay-body.ts';

// The gateway's pure parts: what it reads from a request, the rotation of failed replicas, the
// traffic counters and the request body kept for failover.

describe('splitEndpointPath', () => {
  it('takes the endpoint id and keeps the rest of the path exactly as written', () => {
    expect(splitEndpointPath('/e/ep_abc/v1/chat/completions')).toEqual({ endpointId: 'ep_abc', rest: '/v1/chat/completions' });
    expect(splitEndpointPath('/e/ep_abc')).toEqual({ endpointId: 'ep_abc', rest: '/' });
    expect(splitEndpointPath('/e/ep_abc/')).toEqual({ endpointId: 'ep_abc', rest: '/' });
    expect(splitEndpointPath('/e/ep_abc/a%2Fb//c')).toEqual({ endpointId: 'ep_abc', rest: '/a%2Fb//c' });
    expect(splitEndpointPath('/e/')).toBeNull();
    expect(splitEndpointPath('/v1/e/ep_abc')).toBeNull();
  });
});

describe('endpointKeyOf', () => {
  it('reads a bearer token or x-gridplane-key, the latter first', () => {
    expect(endpointKeyOf(new Headers({ authorization: 'Bearer gpe_one' }))).toBe('gpe_one');
    expect(endpointKeyOf(new Headers({ authorization: 'bearer   gpe_one ' }))).toBe('gpe_one');
    expect(endpointKeyOf(new Headers({ 'x-gridplane-key': 'gpe_two', authorization: 'Bearer gpe_one' }))).toBe('gpe_two');
    expect(endpointKeyOf(new Headers({ authorization: 'Basic Zm9vOmJhcg==' }))).toBeNull();
    expect(endpointKeyOf(new Headers())).toBeNull();
  });
});

describe('callerLocation', () => {
  const cfRequest = (cf: object, headers: Record<string, string> = {}) =>
    Object.assign(new Request('https://x/', { headers }), { cf }) as Request;

  it('uses the edge location, and the test header only where it is honoured', () => {
    expect(callerLocation(cfRequest({ latitude: '48.85', longitude: '2.35' }), false)).toEqual({ lat: 48.85, lon: 2.35 });
    const both = cfRequest({ latitude: '48.85', longitude: '2.35' }, { 'x-gridplane-client-location': '35.7,139.7' });
    expect(callerLocation(both, true)).toEqual({ lat: 35.7, lon: 139.7 });
    expect(callerLocation(both, false)).toEqual({ lat: 48.85, lon: 2.35 });
    expect(callerLocation(new Request('https://x/'), true)).toBeNull();
  });

  it('refuses locations that are not on the Earth', () => {
    expect(parseLatLon('91,0')).toBeNull();
    expect(parseLatLon('0,181')).toBeNull();
    expect(parseLatLon('a,b')).toBeNull();
    expect(parseLatLon('1,')).toBeNull();
    expect(parseLatLon('1,2,3')).toBeNull();
    expect(parseLatLon(' -33.9 , 151.2 ')).toEqual({ lat: -33.9, lon: 151.2 });
  });
});

describe('mayRetryElsewhere', () => {
  it('retries anything that reached no replica, and only idempotent methods that may have', () => {
    expect(mayRetryElsewhere('POST', false)).toBe(true);
    expect(mayRetryElsewhere('POST', true)).toBe(false);
    expect(mayRetryElsewhere('PATCH', true)).toBe(false);
    expect(mayRetryElsewhere('GET', true)).toBe(true);
    expect(mayRetryElsewhere('put', true)).toBe(true);
  });
});

describe('ReplicaObservations', () => {
  it('counts requests open per replica', () => {
    const seen = new ReplicaObservations();
    seen.started('a');
    seen.started('a');
    seen.finished('a');
    expect(seen.inflight('a')).toBe(1);
    seen.finished('a');
    expect(seen.inflight('a')).toBe(0);
  });

  it('takes a failed replica out of rotation until the cool-off ends', () => {
    const seen = new ReplicaObservations();
    seen.failed('a', 1000);
    expect(seen.inRotation('a', 1000)).toBe(false);
    expect(seen.inRotation('a', 1000 + ROTATION_COOL_OFF_MS - 1)).toBe(false);
    expect(seen.inRotation('a', 1000 + ROTATION_COOL_OFF_MS)).toBe(true);
    expect(seen.inRotation('b', 1000)).toBe(true);
  });

  it('brings it back sooner once the table showed it not ready and then ready again', () => {
    const seen = new ReplicaObservations();
    seen.failed('a', 1000);
    seen.tableSays('a', true); // the table has not caught up yet: still out
    expect(seen.inRotation('a', 1001)).toBe(false);
    seen.tableSays('a', false);
    expect(seen.inRotation('a', 1002)).toBe(false);
    seen.tableSays('a', true);
    expect(seen.inRotation('a', 1003)).toBe(true);
  });

  it('learns the excess per caller cell', () => {
    const seen = new ReplicaObservations();
    seen.measured('27:36', 'a', 130, 30);
    expect(seen.excessMs('27:36', 'a')).toBe(100);
    expect(seen.excessMs('25:63', 'a')).toBeUndefined();
  });
});

describe('traffic counters', () => {
  it('puts each time to first byte in its bucket and reads a median back', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(25)).toBe(0);
    expect(bucketOf(26)).toBe(1);
    expect(bucketOf(2500)).toBe(6);
    expect(bucketOf(9000)).toBe(7);
    expect(medianFromBuckets([0, 0, 0, 0, 0, 0, 0, 0])).toBeNull();
    // 10 requests in 100..250 ms: the median is the middle of that bucket.
    expect(medianFromBuckets([0, 0, 0, 10, 0, 0, 0, 0])).toBe(175);
    expect(medianFromBuckets([6, 0, 0, 4, 0, 0, 0, 0])).toBeLessThanOrEqual(25);
    expect(medianFromBuckets([0, 0, 0, 0, 0, 0, 0, 3])).toBe(2500);
  });

  it('sums per endpoint, minute and cell, and hands rows out at most every flush interval', () => {
    const t = new TrafficCounters();
    const minute = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);
    t.record('ep1', minute + 1_000, '27:36', 200, 40);
    t.record('ep1', minute + 2_000, '27:36', 502, null);
    t.record('ep1', minute + 3_000, 'unknown', 200, 3_000);
    const rows = t.take(minute + 10_000);
    expect(rows).toHaveLength(2);
    const paris = rows.find((r) => r.cell === '27:36')!;
    expect(paris).toMatchObject({ endpointId: 'ep1', minute, requests: 2, errors: 1 });
    expect(paris.ttfb).toEqual([0, 1, 0, 0, 0, 0, 0, 0]);
    t.record('ep1', minute + 11_000, '27:36', 200, 10);
    expect(t.take(minute + 10_000 + FLUSH_INTERVAL_MS - 1)).toEqual([]);
    expect(t.take(minute + 10_000 + FLUSH_INTERVAL_MS)).toHaveLength(1);
  });

  it('gives a failed batch back to the next flush, and drops what does not fit', () => {
    const t = new TrafficCounters();
    t.record('ep1', 60_000, 'c', 200, 10);
    const rows = t.take(100_000);
    t.record('ep1', 60_001, 'c', 200, 10);
    t.putBack(rows);
    expect(t.take(200_000)).toEqual([
      { endpointId: 'ep1', minute: 60_000, cell: 'c', requests: 2, errors: 0, ttfb: [2, 0, 0, 0, 0, 0, 0, 0] },
    ]);
    for (let i = 0; i < MAX_PENDING_ROWS + 5; i++) t.record('ep1', 60_000, `cell${i}`, 200, 10);
    expect(t.dropped).toBe(5);
  });
});

describe('replayableBody', () => {
  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    new Request('https://x/', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);

  it('keeps a small body as bytes, so a failover can send it again', async () => {
    const body = await replayableBody(post('{"prompt":"hi"}'));
    expect(body.kind).toBe('bytes');
    expect(new TextDecoder().decode((body as { bytes: Uint8Array }).bytes)).toBe('{"prompt":"hi"}');
    expect(await replayableBody(new Request('https://x/'))).toEqual({ kind: 'none' });
  });

  it('streams a large one whole, what was read first included', async () => {
    const big = new Uint8Array(REPLAY_BODY_MAX + 10).fill(7);
    const chunks = [big.subarray(0, 600_000), big.subarray(600_000)];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(c);
        controller.close();
      },
    });
    const body = await replayableBody(post(stream));
    expect(body.kind).toBe('stream');
    const back = new Uint8Array(await new Response((body as { stream: ReadableStream }).stream).arrayBuffer());
    expect(back.byteLength).toBe(big.byteLength);
    expect(back.every((b) => b === 7)).toBe(true);
    const declared = await replayableBody(post('x'.repeat(10), { 'content-length': String(REPLAY_BODY_MAX + 1) }));
    expect(declared.kind).toBe('stream');
  });
});
