import type { ActionSpec, CommandSpec } from '../command.ts';
import { balanceCommand, linkAction, linkCommand } from './account.ts';
import { cancelCommand, jobCommand, myNodesCommand } from './job.ts';
import { adminCommand } from './admin.ts';
import { depositCommand } from './deposit.ts';
import { endpointAction, endpointsCommand } from './endpoints.ts';
import { proposalCommand, voteAction, voteCommand } from './governance.ts';
import { extendRentalAction } from './rental.ts';
import { nodesCommand, statusCommand } from './nodes.ts';
import { jobsCommand, rentAction, rentCommand } from './rent.ts';
import { rewardsCommand, stakeCommand, unstakeCommand } from './staking.ts';

/** Every chat command, in the order platforms list them. */
export const COMMANDS: readonly CommandSpec[] = [
  linkCommand,
  balanceCommand,
  depositCommand,
  rentCommand,
  jobsCommand,
  jobCommand,
  endpointsCommand,
  cancelCommand,
  myNodesCommand,
  statusCommand,
  nodesCommand,
  stakeCommand,
  unstakeCommand,
  rewardsCommand,
  proposalCommand,
  voteCommand,
  adminCommand,
];

export const ACTIONS: readonly ActionSpec[] = [voteAction, rentAction, linkAction, endpointAction, extendRentalAction];
