import { notYet, section } from '../pages/parts.ts';
import { definePanel } from './panel.ts';

/** Jobs running on the network. There is no jobs table yet, so nothing is counted. */
export interface JobsData {
  running: number | null;
}

export const jobsPanel = definePanel<JobsData>({
  id: 'jobs',
  load: async () => ({ running: null }),
  stats: (d) => [
    { key: 'jobsRunning', label: 'Jobs running', value: d.running === null ? null : String(d.running), note: d.running === null ? 'no jobs yet' : 'right now' },
  ],
  section: (d) =>
    section('jobs', 'Jobs', d.running === null ? notYet('No jobs yet: jobs appear here once renters can start them.') : notYet(`${d.running} jobs running.`)),
});
