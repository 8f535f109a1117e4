import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.ts';
import { waitFor, type AgentProcess } from './agent-process.ts';
import { baseUnits, jobOf, newRenter, readyAgent, reconciled, waitForStatus } from './jobs-helpers.ts';
import { createEventDoublingProxy } from './jobs-proxy.ts';

// Faults with real agent processes: an agent killed mid-job, an agent that does not accept
// before the deadline (paused with SIGSTOP), every agent event delivered twice (a proxy drops the
// first answer, so the agent sends it again under the same event id), a cancel during start.
// Each ends in one state, with exactly one settlement and a reconciled ledger.

let stack: LocalStack;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ HEARTBEAT_INTERVAL_S: '1', HEARTBEAT_SHARDS: '4', JOB_ACCEPT_TIMEOUT_S: '3' });
});

afterAll(async () => {
  for (const a of agents) await a.stop('SIGKILL');
  await stack?.stop();
});

const nodeStatus = async (id: string) => ((await (await fetch(`${stack.url}/v1/nodes/${id}`)).json()) as { status?: string }).status;
const online = (a: AgentProcess) =>
  waitFor(`${a.nodeId} online`, async () => ((await nodeStatus(a.nodeId)) === 'online' ? true : undefined));
/** The first of `events` the agent logged (its --json lines), for one job or, without `job`, at all. */
const logged = (a: AgentProcess, events: string[], job?: string) =>
  a
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as { event?: string; job?: string }];
      } catch {
        return [];
      }
    })
    .find((l) => events.includes(l.event ?? '') && (job === undefined || l.job === job))?.event;
/** Offers reach an agent at once only on its job stream; the pause tests need the offer buffered there. */
const streamOpen = (a: AgentProcess) => waitFor(`${a.nodeId} job stream open`, async () => (logged(a, ['stream_open']) ? true : undefined));
const longJob = (lat: number, lon: number, model = 'RTX 4090') => ({
  gpu: { model, count: 1 },
  durationS: 120,
  image: 'busybox',
  command: [process.execPath, '-e', "console.log('working'); setInterval(() => console.log('tick'), 500)"],
  client: { lat, lon },
});

describe('job faults end to end', () => {
  it('fails a job whose agent is killed mid-run, bills what ran and refunds the rest', async () => {
    const agent = await readyAgent(stack, { name: 'doomed', lat: 52.37, lon: 4.9, country: 'NL', simulateGpus: 'A10x1' });
    agents.push(agent);
    await online(agent);
    const renter = await newRenter(stack);
    const created = (await (await renter.call('POST', '/v1/jobs', longJob(52.3, 4.9, 'A10'))).json()) as Record<string, any>;
    expect(created.nodeId).toBe(agent.nodeId);
    const running = await waitForStatus(renter, created.id, ['running']);
    // Killed once a heartbeat came more than a second into the run, so there is something to bill.
    await waitFor('a heartbeat a second into the run', async () => {
      const node = (await (await fetch(`${stack.url}/v1/nodes/${agent.nodeId}`)).json()) as { lastSeenAt: string };
      return Date.parse(node.lastSeenAt) > Date.parse(running.startedAt) + 1000 ? true : undefined;
    });
    await agent.stop('SIGKILL');
    const failed = await waitForStatus(renter, created.id, ['failed'], 30_000, () => stack.runCron());
    expect(failed.reason).toBe('the node went offline while the job ran');
    const escrow = baseUnits(failed.escrow);
    expect(baseUnits(failed.billing.captured) + baseUnits(failed.billing.refunded)).toBe(escrow);
    expect(baseUnits(failed.billing.captured)).toBeGreaterThan(0);
    expect(baseUnits(failed.billing.refunded)).toBeGreaterThan(escrow / 2);
    expect(await renter.balance()).toBe(100_000_000 - baseUnits(failed.billing.captured));
    expect(await reconciled(stack)).toBe(true);
    // Dropping a running job is a staking offence, recorded once with the job as evidence.
    const slashes = (await (await fetch(`${stack.url}/v1/staking/slashes?nodeId=${agent.nodeId}`)).json()) as {
      slashes: { offence: string; evidence: { jobId: string } }[];
    };
    expect(slashes.slashes.map((x) => [x.offence, x.evidence.jobId])).toEqual([['abandoned_job', created.id]]);
  });

  it('moves a job the agent does not accept before the deadline to the next node', async () => {
    const [slow, spare] = await Promise.all([
      readyAgent(stack, { name: 'slow', lat: 40.42, lon: -3.7, country: 'ES', simulateGpus: 'L4x1' }),
      readyAgent(stack, { name: 'spare', lat: 38.72, lon: -9.14, country: 'PT', simulateGpus: 'L4x1' }),
    ]);
    agents.push(slow, spare);
    await online(slow);
    await online(spare);
    await streamOpen(slow);
    const renter = await newRenter(stack);
    // Paused: it cannot accept (nor heartbeat). The deadline (3 s) passes first; the job moves.
    const pid = slow.pid;
    let jobId = '';
    process.kill(pid, 'SIGSTOP');
    try {
      const created = (await (await renter.call('POST', '/v1/jobs', longJob(40.4, -3.7, 'L4'))).json()) as Record<string, any>;
      expect(created.nodeId).toBe(slow.nodeId);
      const moved = await waitFor('job moved to the spare node', async () => {
        await stack.runCron();
        const job = await jobOf(renter, created.id);
        return job.nodeId === spare.nodeId && job.status === 'running' ? job : undefined;
      });
      expect(moved.attempts).toBe(2);
      jobId = created.id;
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Woken, the agent reads the offer buffered on its stream and sends its acceptance: refused
    // (409 job_not_assigned), which it logs as job_gone; accepted, it would log job_accepted.
    // Wait for that answer, not for time to pass; then the job must not have moved.
    expect(await waitFor('the woken agent’s acceptance answered', async () => logged(slow, ['job_gone', 'job_accepted'], jobId))).toBe(
      'job_gone',
    );
    const settled = await waitFor('job still on the spare node', async () => {
      const jobs = (await (await fetch(`${stack.url}/v1/nodes/${spare.nodeId}`)).json()) as { status: string };
      return jobs.status === 'online' ? true : undefined;
    });
    expect(settled).toBe(true);
    const job = await jobOf(renter, jobId);
    expect(job).toMatchObject({ status: 'running', nodeId: spare.nodeId });
    await renter.call('POST', `/v1/jobs/${jobId}/cancel`);
  });

  it('applies every event once although each reaches the control plane twice', async () => {
    const proxy = await createEventDoublingProxy(stack.url);
    try {
      const agent = await readyAgent(stack, {
        url: proxy.url,
        name: 'echo',
        lat: -37.81,
        lon: 144.96,
        country: 'AU',
        simulateGpus: 'T4x1',
      });
      agents.push(agent);
      await online(agent);
      const renter = await newRenter(stack);
      const created = (await (
        await renter.call('POST', '/v1/jobs', {
          gpu: { model: 'T4', count: 1 },
          durationS: 60,
          image: 'busybox',
          command: [process.execPath, '-e', "console.log('one'); console.log('two')"],
          client: { lat: -37.8, lon: 145 },
        })
      ).json()) as Record<string, any>;
      const done = await waitForStatus(renter, created.id, ['succeeded', 'failed'], 45_000);
      expect(done.status).toBe('succeeded');
      expect(proxy.doubled()).toBeGreaterThanOrEqual(4); // accepted, started, log(s), finished
      const logs = (await (await renter.call('GET', `/v1/jobs/${created.id}/logs`)).json()) as { logs: { seq: number; data: string }[] };
      expect(logs.logs.map((l) => l.seq)).toEqual(logs.logs.map((_, i) => i));
      expect(logs.logs.map((l) => l.data).join('')).toMatch(/one\ntwo\n/);
      expect(done.transitions.map((t: { to: string }) => t.to)).toEqual(['queued', 'assigned', 'starting', 'running', 'succeeded']);
      expect(await reconciled(stack)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('cancels during start: full refund, the agent stops, late events change nothing', async () => {
    const agent = await readyAgent(stack, { name: 'cancel', lat: 55.68, lon: 12.57, country: 'DK', simulateGpus: 'RTX 3090x1' });
    agents.push(agent);
    await online(agent);
    await streamOpen(agent);
    const renter = await newRenter(stack);
    // Paused, the agent cannot start what it is offered: the cancel lands before anything ran
    // (a ready agent on its stream starts a job within milliseconds otherwise).
    process.kill(agent.pid, 'SIGSTOP');
    let created: Record<string, any>;
    try {
      created = (await (await renter.call('POST', '/v1/jobs', longJob(55.6, 12.5, 'RTX 3090'))).json()) as Record<string, any>;
      expect(created.nodeId).toBe(agent.nodeId);
      const cancelled = (await (await renter.call('POST', `/v1/jobs/${created.id}/cancel`)).json()) as Record<string, any>;
      expect(cancelled.status).toBe('cancelled');
      expect(cancelled.billing.captured).toBe('0.000000');
    } finally {
      process.kill(agent.pid, 'SIGCONT');
    }
    // Woken, the agent acts on the offer buffered on its stream: its acceptance is answered (job_gone
    // when refused, job_accepted when taken as a late, unapplied event). Then it is stopped, which
    // waits until the job's last events were answered, so all it did is in before the checks.
    await waitFor('the woken agent’s acceptance answered', async () => logged(agent, ['job_gone', 'job_accepted'], created.id));
    await agent.stop('SIGTERM');
    const after = await jobOf(renter, created.id);
    expect(after.status).toBe('cancelled');
    expect(await renter.balance()).toBe(100_000_000);
    expect(await reconciled(stack)).toBe(true);
    expect(after.transitions.map((t: { to: string }) => t.to)).toEqual(['queued', 'assigned', 'cancelled']);
  });
});
