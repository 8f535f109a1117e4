import { GPU_CATALOG } from '../../../protocol/gpu-catalog.ts';
import { durationText } from '../../../workers/lib/human-time.ts';

// Pure: the guided /rent flow. GPU → count → hours → where → quote. Each step offers a short list
// of choices; the callback data carries only the choice's index, the flow's state is in D1. The
// lists are built from what exists when the flow starts: only models some node can take a job on
// now, only counts one such node has free.

export type RentStep = 'gpu' | 'count' | 'hours' | 'where' | 'quote';

export interface RentState {
  /** Catalogue names offered at the first step: models some node can take a job on now. */
  gpuOptions: string[];
  /** Per offered model, the most GPUs one node has free (when the flow started). */
  maxGpus?: Record<string, number>;
  /** Counts offered at the second step, for the chosen model. */
  countOptions?: number[];
  gpu?: string;
  count?: number;
  hours?: number;
  region?: string;
}

export interface Choice {
  label: string;
}

export const COUNT_OPTIONS = [1, 2, 4, 8, 16, 32, 64] as const;
/** Hours: from five minutes (the API takes any whole number of seconds; shorter is no rental) to a week. */
export const HOUR_OPTIONS = [5 / 60, 0.25, 0.5, 1, 2, 4, 8, 24, 72, 168] as const;

/** "5 min", "1 h", "3 days": an hour option as a person reads it. */
export const hoursText = (hours: number) => durationText(hours * 3600);

/** Counts up to what one node has free: the powers of two below it, and the most itself. */
export function countOptions(max: number): number[] {
  const counts: number[] = COUNT_OPTIONS.filter((n) => n <= max);
  if (max > 0 && !counts.includes(max) && max <= COUNT_OPTIONS.at(-1)!) counts.push(max);
  return counts;
}

export interface RegionInfo {
  name: string;
}

export interface StepView {
  text: string;
  choices: Choice[];
}

export function stepView(step: RentStep, state: RentState, regions: Record<string, RegionInfo>): StepView {
  switch (step) {
    case 'gpu':
      return { text: 'Rent GPUs — which model?', choices: state.gpuOptions.map((label) => ({ label })) };
    case 'count': {
      const counts = state.countOptions ?? [...COUNT_OPTIONS];
      const most = state.gpu ? state.maxGpus?.[state.gpu] : undefined;
      const limit = most === undefined ? '' : most === 1 ? ' (one free on a node now)' : ` (up to ${most} on one node now)`;
      return { text: `${state.gpu}: how many GPUs?${limit}`, choices: counts.map((n) => ({ label: `${n}` })) };
    }
    case 'hours':
      return { text: `${state.count}× ${state.gpu}: for how long?`, choices: HOUR_OPTIONS.map((h) => ({ label: hoursText(h) })) };
    case 'where':
      return {
        text: `${state.count}× ${state.gpu} for ${hoursText(state.hours ?? 0)}: where are you?`,
        choices: Object.values(regions).map((r) => ({ label: r.name })),
      };
    case 'quote':
      return { text: '', choices: [] };
  }
}

export type Advance = { ok: true; step: RentStep; state: RentState } | { ok: false; reason: 'bad_choice' | 'finished' };

/** The next step after choosing `index` at `step`. */
export function advance(step: RentStep, state: RentState, index: number, regionKeys: string[]): Advance {
  switch (step) {
    case 'gpu': {
      const gpu = state.gpuOptions[index];
      const most = gpu ? state.maxGpus?.[gpu] : undefined;
      return gpu
        ? { ok: true, step: 'count', state: { ...state, gpu, countOptions: most === undefined ? [...COUNT_OPTIONS] : countOptions(most) } }
        : { ok: false, reason: 'bad_choice' };
    }
    case 'count': {
      const count = (state.countOptions ?? COUNT_OPTIONS)[index];
      return count ? { ok: true, step: 'hours', state: { ...state, count } } : { ok: false, reason: 'bad_choice' };
    }
    case 'hours': {
      const hours = HOUR_OPTIONS[index];
      return hours ? { ok: true, step: 'where', state: { ...state, hours } } : { ok: false, reason: 'bad_choice' };
    }
    case 'where': {
      const region = regionKeys[index];
      return region ? { ok: true, step: 'quote', state: { ...state, region } } : { ok: false, reason: 'bad_choice' };
    }
    case 'quote':
      return { ok: false, reason: 'finished' };
  }
}

/** The step before, for the back button. */
export function previous(step: RentStep): RentStep {
  return step === 'count' ? 'gpu' : step === 'hours' ? 'count' : step === 'where' ? 'hours' : step === 'quote' ? 'where' : 'gpu';
}

/** Models some node can take a job on now, in catalogue order, with the most GPUs one node has free. */
export function gpuOptions(rentable: readonly { model: string; maxGpus: number }[]): Pick<RentState, 'gpuOptions' | 'maxGpus'> {
  const known = GPU_CATALOG.map((g) => g.name).filter((n, i, all) => all.indexOf(n) === i);
  const most = new Map(rentable.filter((r) => r.maxGpus > 0).map((r) => [r.model, r.maxGpus]));
  const offered = known.filter((n) => most.has(n)).slice(0, 24);
  return { gpuOptions: offered, maxGpus: Object.fromEntries(offered.map((n) => [n, most.get(n)!])) };
}

/** Why no model is on offer, in a person's words. */
export function nothingToRent(counts: { online?: number; eligible?: number }): string {
  const online = counts.online ?? 0;
  const eligible = counts.eligible ?? 0;
  if (online === 0) return 'No node is online right now, so there is nothing to rent.';
  if (eligible === 0) {
    return `${online === 1 ? 'One node is' : `${online} nodes are`} online, but none can take jobs yet: a node needs to pass its hardware check and have enough stake bonded.`;
  }
  return `Every GPU on the ${eligible === 1 ? 'one node' : `${eligible} nodes`} that can take jobs is rented right now.`;
}
