import { describe, expect, it } from 'vitest';
import { registeredAgent } from './helpers/agent.ts';
import { jobBody, newRenter, readyNode } from './helpers/jobs.ts';
import { linkedOperator } from './helpers/operator.ts';
import { labels, plain, send, tap, tapNotice } from './helpers/conversation.ts';

// /rent's menus are built from what exists: only models, counts and durations some node can take
// now; when nothing fits the chat says why and offers a way back; stale buttons say so.
// The first test runs on an empty registry (this file's own D1), so it comes first.

const RTX4090 = 'NVIDIA GeForce RTX 4090';

describe('/rent when nothing fits (Telegram)', () => {
  it('says why nothing can be rented, looks again on a tap, and offers only what a node has free', async () => {
    const renter = await linkedOperator();
    let screen = await send(renter.chatId, '/rent');
    expect(plain(screen.body.text)).toBe(
      '⚠️ Nothing to rent right now\n\nNo node is online right now, so there is nothing to rent.\n\n/nodes lists the online nodes. Press Check again in a while.',
    );
    expect(labels(screen)).toEqual(['Check again']);

    // Online but not verified or staked: not rentable, and the chat says what is missing.
    await registeredAgent({ name: 'unverified' });
    screen = await tap(renter.chatId, screen, 'Check again');
    expect(plain(screen.body.text)).toContain(
      'One node is online, but none can take jobs yet: a node needs to pass its hardware check and have enough stake bonded.',
    );
    expect(labels(screen)).toEqual(['Check again']);

    // One node that can take jobs, with three RTX 4090s: only that model, only up to three.
    const node = await readyNode({
      name: 'trio',
      gpus: [{ model: RTX4090, vramMb: 24564, count: 3 }],
      location: { lat: 48.86, lon: 2.35, country: 'FR' },
    });
    screen = await tap(renter.chatId, screen, 'Check again');
    expect(plain(screen.body.text)).toBe('Rent GPUs — which model?');
    expect(labels(screen)).toEqual(['RTX 4090', '✖ Cancel']);
    screen = await tap(renter.chatId, screen, 'RTX 4090');
    expect(plain(screen.body.text)).toBe('RTX 4090: how many GPUs? (up to 3 on one node now)');
    expect(labels(screen)).toEqual(['1', '2', '3', '◀ Back', '✖ Cancel']);
    screen = await tap(renter.chatId, screen, '3');
    // Durations from five minutes (the API takes any whole second) to a week.
    expect(labels(screen)).toEqual([
      '5 min',
      '15 min',
      '30 min',
      '1 h',
      '2 h',
      '4 h',
      '8 h',
      '1 day',
      '3 days',
      '7 days',
      '◀ Back',
      '✖ Cancel',
    ]);
    screen = await tap(renter.chatId, screen, '5 min');
    expect(plain(screen.body.text)).toBe('3× RTX 4090 for 5 min: where are you?');
    const where = screen;

    // The node fills up before the last tap: the quote says so and the flow offers the way back.
    const other = await newRenter();
    expect((await other.call('POST', '/v1/jobs', jobBody({ gpu: { model: 'RTX 4090', count: 2 } }))).status).toBe(201);
    screen = await tap(renter.chatId, where, 'Europe (west)');
    expect(plain(screen.body.text)).toBe(
      '⚠️ No offer\n\nNo online node has 3× RTX 4090 right now.\n\nGo back to choose fewer GPUs or another time, or cancel.',
    );
    expect(labels(screen)).toEqual(['◀ Back', '✖ Cancel']);
    screen = await tap(renter.chatId, screen, '◀ Back');
    expect(plain(screen.body.text)).toBe('3× RTX 4090 for 5 min: where are you?');
    screen = await tap(renter.chatId, screen, '◀ Back');
    screen = await tap(renter.chatId, screen, '◀ Back');
    expect(plain(screen.body.text)).toMatch(/^RTX 4090: how many GPUs\?/);
    screen = await tap(renter.chatId, screen, '1');
    screen = await tap(renter.chatId, screen, '15 min');
    screen = await tap(renter.chatId, screen, 'Europe (west)');
    expect(plain(screen.body.text)).toMatch(/^1× RTX 4090 for 15 min\n\nBest offer: /);
    expect(labels(screen)).toContain('Confirm');
    expect(node.nodeId).toBeTruthy();

    // Stale buttons: an earlier screen's button after the flow moved on, and any after it ended.
    expect(await tapNotice(renter.chatId, where, 'Europe (west)')).toBe('This rental has expired; send /rent to start again.');
    screen = await send(renter.chatId, '/rent');
    const gpuScreen = screen;
    screen = await tap(renter.chatId, screen, 'RTX 4090');
    expect(await tapNotice(renter.chatId, gpuScreen, 'RTX 4090')).toBe('Already chosen.');
    screen = await tap(renter.chatId, screen, '✖ Cancel');
    expect(plain(screen.body.text)).toBe('Rental cancelled; nothing was held.');
    expect(await tapNotice(renter.chatId, gpuScreen, 'RTX 4090')).toBe('This rental has expired; send /rent to start again.');
  });
});
