import { notYet, section } from '../pages/parts.ts';
import { formatInt } from '../pages/format.ts';
import { definePanel } from './panel.ts';
import { rows } from './panel-sql.ts';

/** Jobs running on the network right now (starting or running), counted from the status index. */
export interface JobsData {
  running: number;
}

const RUNNING_SQL = `SELECT count(*) AS n FROM jobs WHERE status IN ('starting', 'running')`;

export const jobsPanel = definePanel<JobsData>({
  id: 'jobs',
  load: async (ctx) => ({ running: (await rows<{ n: number }>(ctx.db, RUNNING_SQL))[0]?.n ?? 0 }),
  stats: (d) => [{ key: 'jobsRunning', label: 'Jobs running', value: formatInt(d.running), note: 'right now' }],
  section: (d) =>
    section(
      'jobs',
      'Jobs',
      notYet(
        d.running === 0 ? 'No job is running right now.' : `${formatInt(d.running)} ${d.running === 1 ? 'job' : 'jobs'} running right now.`,
      ),
    ),
});
