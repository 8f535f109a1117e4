import { and, eq } from 'drizzle-orm';
import { accounts } from '../../db/schema.ts';
import { getUserAccount } from '../accounts/accounts.repo.ts';
import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';
import { badRequest } from '../errors.ts';
import { validate } from '../http/body.ts';
import { parseAmount } from '../lib/amounts.ts';
import { isUserAccountId } from '../ledger/ledger-accounts.ts';
import { decodePublicKey } from '../../protocol/base58.ts';
import { createProposalSchema } from './proposal-input.schema.ts';
import { boundsContextOf, isParamName, parseParamValue, PARAM_NAMES } from './param-defs.ts';
import type { NewProposal } from './proposals.repo.ts';

// What a person sends to open a proposal (HTTP body or chat command options), validated into
// the repo's NewProposal. Shared by the HTTP route and the bots, so both refuse the same things
// with the same messages.

export async function toNewProposal(db: Db, config: Config, proposer: string, raw: unknown): Promise<NewProposal> {
  const input = validate(createProposalSchema, raw);
  const base = { proposerAccountId: proposer, kind: input.kind, title: input.title, description: input.description };
  switch (input.kind) {
    case 'text':
      if (input.grant || input.param) throw badRequest('invalid_request', 'A text proposal has neither grant nor param.');
      return base;
    case 'grant': {
      if (!input.grant || input.param)
        throw badRequest('invalid_request', 'grant: a grant proposal needs { recipient, amount } and no param.');
      const amount = parseAmount(input.grant.amount.trim(), config.TOKEN_DECIMALS);
      if (!amount.ok) throw badRequest('invalid_request', `grant.amount: ${amount.reason}.`);
      if (amount.baseUnits <= 0) throw badRequest('invalid_request', 'grant.amount: must be more than 0.');
      return { ...base, grant: { recipient: await grantRecipient(db, input.grant.recipient.trim()), amount: amount.baseUnits } };
    }
    case 'param': {
      if (!input.param || input.grant) throw badRequest('invalid_request', 'param: a param proposal needs { name, value } and no grant.');
      const name = input.param.name.trim();
      if (!isParamName(name)) {
        throw badRequest('unknown_param', `param.name: ${JSON.stringify(name)} is not a governable parameter (${PARAM_NAMES.join(', ')}).`);
      }
      const value = parseParamValue(name, input.param.value, boundsContextOf(config));
      if (!value.ok) throw badRequest('invalid_param_value', `param.value: ${value.reason}.`);
      return { ...base, param: { name, value: value.value } };
    }
  }
}

/**
 * A user account id, or the account of a wallet. The recipient must have signed in once: a
 * refused proposal must change nothing, so no account is created here.
 */
async function grantRecipient(db: Db, recipient: string): Promise<string> {
  if (isUserAccountId(recipient)) {
    if (!(await getUserAccount(db, recipient))) throw badRequest('unknown_recipient', 'grant.recipient: there is no such account.');
    return recipient;
  }
  if (decodePublicKey(recipient) === null) {
    throw badRequest('invalid_request', 'grant.recipient: must be an account id (acc_…) or a Solana wallet address.');
  }
  const row = await db
    .select({ id: accounts.id })
    .from(accounts)
    .where(and(eq(accounts.wallet, recipient), eq(accounts.kind, 'user')))
    .get();
  if (!row) throw badRequest('unknown_recipient', 'grant.recipient: this wallet has not signed in to gridplane yet.');
  return row.id;
}
