import { notYet, section } from '../pages/parts.ts';
import { definePanel, type RunnablePanel } from './panel.ts';

// The node page's panels, in page order. Each is given the node id. Stake, jobs, rewards and
// verification do not exist yet; their panels say so until their features give them a `load`.

export const nodeVerificationPanel = definePanel<{ checks: never[] }, string>({
  id: 'verification',
  load: async () => ({ checks: [] }),
  section: () =>
    section('verification', 'Verification', notYet('No verification checks yet: uptime above is measured from heartbeats the control plane received.')),
});

export const nodeStakePanel = definePanel<{ stakers: never[] }, string>({
  id: 'stake',
  load: async () => ({ stakers: [] }),
  section: () => section('stake', 'Stake and stakers', notYet('Staking is not enabled yet, so this node has no stake and no stakers.')),
});

export const nodeJobsPanel = definePanel<{ jobs: never[] }, string>({
  id: 'recent-jobs',
  load: async () => ({ jobs: [] }),
  section: () => section('recent-jobs', 'Recent jobs', notYet('No jobs yet.')),
});

export const nodeRewardsPanel = definePanel<{ epochs: never[] }, string>({
  id: 'rewards',
  load: async () => ({ epochs: [] }),
  section: () => section('rewards', 'Rewards per epoch', notYet('Rewards start when epochs are enabled.')),
});

export const nodePanels: readonly RunnablePanel<string>[] = [nodeVerificationPanel, nodeStakePanel, nodeJobsPanel, nodeRewardsPanel];
