import { describe, expect, it } from 'vitest';
import { readyNode } from './helpers/jobs.ts';
import { mintTo } from './helpers/ledger.ts';
import { linkedOperator } from './helpers/operator.ts';
import { plain, screens, send } from './helpers/conversation.ts';

// Nodes named by their names wherever a person types one, with ids where they help: a shared
// name is answered with the nodes and their ids; a delegator stakes on anyone's node by name.

const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d/;

describe('nodes by name in chat (Telegram)', () => {
  it('/status, /stake and /unstake take a name; a shared name lists the nodes with their ids', async () => {
    const op = await linkedOperator();
    await mintTo(op.accountId, 50_000_000);
    const own = await readyNode({ owner: op.wallet, name: 'ada-rig' });
    const solo = await readyNode({ name: 'Solo' });
    const twinA = await readyNode({ name: 'twin' });
    const twinB = await readyNode({ name: 'twin' });

    let text = plain((await send(op.chatId, '/status ada-rig')).body.text);
    expect(text).toMatch(
      /^✅ ada-rig — online\n\n2× RTX 4090 \(24 GB\)\n\nPrice: [\d.]+ per GPU-hour\nCountry: \w\w\nLast seen: (just now|\d+ min ago)\nReputation: [\d.]+\nNode: /,
    );
    expect(text).toContain(`Node: ${own.nodeId}`);

    // Two nodes share a name: both, with their ids, and how to name one.
    text = plain((await send(op.chatId, '/status twin')).body.text);
    expect(text.split('\n').slice(0, 3)).toEqual(['⛔ That did not work', '', '2 nodes are named "twin"; name one by its id:']);
    for (const twin of [twinA, twinB]) expect(text).toMatch(new RegExp(`^twin · online · \\w\\w · ${twin.nodeId}$`, 'm'));
    expect(text).toMatch(/\nFor example: \/status \w{32,44}$/);
    expect(plain((await send(op.chatId, '/status nobody-has-this')).body.text)).toBe(
      '⛔ That did not work\n\nThere is no node named "nobody-has-this". /nodes lists the online ones.',
    );

    // A delegator picks any node by name, in any case; a shared name needs the id.
    expect(plain((await send(op.chatId, '/stake solo 5')).body.text)).toBe('✅ Staked\n\n5.000000 tokens bonded on Solo.');
    text = plain((await send(op.chatId, '/stake twin 5')).body.text);
    expect(text).toContain('2 nodes are named "twin"; name one by its id:');
    expect(text).toMatch(/\nFor example: \/stake \w{32,44} 5$/);
    expect(plain((await send(op.chatId, `/stake ${twinA.nodeId} 3`)).body.text)).toBe('✅ Staked\n\n3.000000 tokens bonded on twin.');
    // The operator's own node: the same command bonds as its operator.
    expect(plain((await send(op.chatId, '/stake ada-rig 1')).body.text)).toBe('✅ Staked\n\n1.000000 tokens bonded on ada-rig.');

    text = plain((await send(op.chatId, '/stake')).body.text);
    expect(text).toContain(`5.000000 on Solo (${solo.nodeId.slice(0, 8)}…)`);
    expect(text).toContain(`3.000000 on twin (${twinA.nodeId.slice(0, 8)}…)`);
    expect(text).not.toContain(twinB.nodeId.slice(0, 8));

    // /unstake names among the nodes this account has stake on: only one "twin" is.
    text = plain((await send(op.chatId, '/unstake twin 2')).body.text);
    expect(text).toMatch(
      /^✅ Unbonding\n\n2\.000000 tokens on twin stop earning and voting now and are released on (\d{1,2} \w{3} )?\d\d:\d\d UTC \(in \d+ (min|h|days?)\)\.$/,
    );
    expect(plain((await send(op.chatId, '/unstake nobody-has-this 1')).body.text)).toBe(
      '⛔ That did not work\n\nYou have no bonded stake on a node by that name or id; /stake lists yours.',
    );

    for (const screen of await screens(op.chatId)) expect(String(screen.body.text)).not.toMatch(ISO);
  });
});
