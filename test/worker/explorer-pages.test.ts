import { beforeAll, describe, expect, it } from 'vitest';
import { api, heartbeat, newAgent, registeredAgent, type TestAgent } from './helpers/agent.ts';

// The explorer's server-rendered pages: what a person reads in the HTML, with the numbers from
// real D1 and the live view from the real shard; hostile names stay text.

const HOSTILE_NAME = '<script>alert("pwn")</script><img src=x onerror=alert(1)>';
const HOSTILE_MODEL = '<b onmouseover=alert(2)>Mystery</b> GPU';

const page = async (path: string, accept = 'text/html,application/xhtml+xml,*/*;q=0.8') => {
  const res = await api(path, { headers: { accept } });
  return { res, text: await res.text() };
};

const count = (text: string, needle: string) => text.split(needle).length - 1;
/** The map's dots group, without the legend's sample circles. */
const dotsOf = (text: string) => /<g id="dots"[^>]*>(.*?)<\/g>/s.exec(text)?.[1] ?? '';

describe('the root', () => {
  it('answers JSON without an Accept header, for JSON and when JSON ranks higher', async () => {
    for (const accept of [undefined, 'application/json', '*/*', 'text/html;q=0.5, application/json']) {
      const res = await api('/', accept ? { headers: { accept } } : undefined);
      expect(res.headers.get('content-type'), String(accept)).toContain('application/json');
      expect(((await res.json()) as any).links.network).toBe('/v1/network/summary');
    }
  });

  it('shows an empty network plainly', async () => {
    const { res, text } = await page('/');
    expect(res.status).toBe(200);
    expect(text).toContain('No node is online.');
    expect(text).toContain('No node has registered yet.');
    expect(text).toContain('<g id="dots"');
    expect(count(dotsOf(text), '<circle')).toBe(0);
  });
});

describe('explorer pages', () => {
  let tokyo: TestAgent;
  let sim: TestAgent;
  let hostile: TestAgent;
  beforeAll(async () => {
    tokyo = await registeredAgent({ name: 'tokyo-rig', location: { lat: 35.68, lon: 139.69, country: 'JP' } });
    sim = await registeredAgent({
      name: 'sim-rig',
      pricePerGpuHour: '0.75',
      location: { lat: 48.85, lon: 2.35, country: 'FR' },
      gpus: [{ model: 'NVIDIA GeForce RTX 3090', vramMb: 24576, count: 4, simulated: true }],
    });
    hostile = await registeredAgent({
      name: HOSTILE_NAME,
      location: { lat: -33.9, lon: 151.2, country: 'AU' },
      gpus: [{ model: HOSTILE_MODEL, vramMb: 16384, count: 1 }],
    });
    const res = await tokyo.send(
      'POST',
      `/v1/nodes/${tokyo.nodeId}/heartbeat`,
      heartbeat({
        gpus: [
          { index: 0, utilPct: 87, memUsedMb: 20480, tempC: 71, powerW: 350 },
          { index: 1, utilPct: 3, memUsedMb: 512, tempC: 40, powerW: null },
        ],
        probes: [{ target: 'NRT', rttMs: 4.25 }],
      }),
    );
    expect(res.status).toBe(200);
  });

  it('/ shows totals, the map with a simulated legend, models, countries and the empty panels', async () => {
    const { res, text } = await page('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'.*script-src 'sha256-/);
    expect(text).toMatch(/data-stat="nodesOnline">3</);
    expect(text).toMatch(/data-stat="gpusOnline">7</);
    expect(text).toContain('0 offline · 1 simulated');
    expect(count(dotsOf(text), '<circle class="dot-real"')).toBe(2);
    expect(count(dotsOf(text), '<circle class="dot-sim"')).toBe(1);
    expect(text).toContain('Online simulated nodes (no real GPUs)');
    expect(text).toContain('<th scope="row">Japan</th>');
    expect(text).toContain('<th scope="row">France</th>');
    expect(text).toMatch(/<th scope="row">RTX 4090<\/th><td class="n">2<\/td><td class="n">1<\/td><td class="n">1.25<\/td>/);
    expect(text).toMatch(
      /<th scope="row">RTX 3090 \(4 simulated\)<\/th><td class="n">4<\/td><td class="n">1<\/td><td class="n">0.75<\/td>/,
    );
    expect(text).toContain(`href="/nodes/${tokyo.nodeId}">tokyo-rig</a>`);
    expect(text).toContain(`href="/nodes/${sim.nodeId}">sim-rig</a><span class="tag sim">simulated</span>`);
    expect(text).toContain('No job is running right now.');
    expect(text).toMatch(/data-stat="jobsRunning">0</);
    expect(text).toContain('No epoch has closed yet');
    expect(text).toContain('No open proposals');
    expect(text).toMatch(/data-stat="utilisation">0\.0%</);
  });

  it('escapes a hostile node name and GPU model everywhere they appear', async () => {
    for (const path of ['/', `/nodes/${hostile.nodeId}`]) {
      const { text } = await page(path);
      expect(text).not.toContain('<script>alert');
      expect(text).not.toContain('<img src=x');
      expect(text).not.toContain('<b onmouseover');
      expect(text).toContain('&lt;script&gt;alert(&quot;pwn&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
      expect(text).toContain('&lt;b onmouseover=alert(2)&gt;Mystery&lt;/b&gt; GPU');
      // The page's own script is the only one.
      expect(count(text, '<script')).toBe(path === '/' ? 1 : 0);
    }
  });

  it('/nodes/{id} shows the node, its GPUs, live metrics, uptime and history', async () => {
    const { res, text } = await page(`/nodes/${tokyo.nodeId}`);
    expect(res.status).toBe(200);
    expect(text).toContain('<title>tokyo-rig · gridplane node</title>');
    expect(text).toContain('<h1>tokyo-rig</h1>');
    expect(text).toContain('<span class="tag status-online">online</span>');
    expect(text).toContain(tokyo.nodeId);
    expect(text).toContain('Japan (35.68, 139.69)');
    expect(text).toContain('1.25 tokens per GPU-hour');
    expect(text).toMatch(/<th scope="row">NVIDIA GeForce RTX 4090<\/th><td>RTX 4090<\/td><td class="n">24 GiB<\/td><td class="n">2<\/td>/);
    expect(text).toMatch(
      /<th scope="row">#0<\/th><td class="n">87%<\/td><td class="n">20,480 MiB<\/td><td class="n">71 °C<\/td><td class="n">350 W<\/td>/,
    );
    expect(text).toMatch(/<th scope="row">#1<\/th><td class="n">3%<\/td>.*<td class="n">—<\/td>/);
    expect(text).toContain('<th scope="row">NRT</th><td class="n">4.3 ms</td>');
    expect(text).toMatch(/<dt>Uptime<\/dt><dd>\d+\.\d%/);
    expect(text).toContain('<td>Registered</td>');
    expect(text).toContain('No stake is bonded on this node.');
    expect(text).toContain('No rewards yet');
    expect(text).toContain('No jobs yet.');
    expect(text).not.toContain('simulated</span>');
  });

  it('labels a simulated node and says when no metrics have arrived', async () => {
    const { text } = await page(`/nodes/${sim.nodeId}`);
    expect(text).toContain('<h1>sim-rig<span class="tag sim">simulated</span></h1>');
    expect(text).toContain('its GPUs and metrics are made up');
    expect(text).toContain('No heartbeat metrics received yet.');
  });

  it('answers 404 pages for an unknown or malformed node id', async () => {
    const unknown = await newAgent();
    for (const id of [unknown.nodeId, 'not-a-node-id', '%3Cscript%3E']) {
      const { res, text } = await page(`/nodes/${id}`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(text).toContain('<h1>Not found</h1>');
      expect(text).not.toContain('<script>');
    }
  });
});
