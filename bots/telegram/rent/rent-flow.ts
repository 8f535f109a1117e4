import { GPU_CATALOG } from '../../../protocol/gpu-catalog.ts';

// Pure: the guided /rent flow. GPU → count → hours → where → quote. Each step offers a short list
// of choices; the callback data carries only the choice's index, the flow's state is in D1.

export type RentStep = 'gpu' | 'count' | 'hours' | 'where' | 'quote';

export interface RentState {
  /** Catalogue names offered at the first step (what is online now, or the whole catalogue). */
  gpuOptions: string[];
  gpu?: string;
  count?: number;
  hours?: number;
  region?: string;
}

export interface Choice {
  label: string;
}

export const COUNT_OPTIONS = [1, 2, 4, 8] as const;
export const HOUR_OPTIONS = [1, 2, 4, 8, 24, 72] as const;

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
    case 'count':
      return { text: `${state.gpu}: how many GPUs?`, choices: COUNT_OPTIONS.map((n) => ({ label: `${n}` })) };
    case 'hours':
      return { text: `${state.count}× ${state.gpu}: for how long?`, choices: HOUR_OPTIONS.map((h) => ({ label: h < 24 ? `${h} h` : `${h / 24} d` })) };
    case 'where':
      return { text: `${state.count}× ${state.gpu} for ${state.hours} h: where are you?`, choices: Object.values(regions).map((r) => ({ label: r.name })) };
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
      return gpu ? { ok: true, step: 'count', state: { ...state, gpu } } : { ok: false, reason: 'bad_choice' };
    }
    case 'count': {
      const count = COUNT_OPTIONS[index];
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

/** Models in catalogue order, limited to what is online when anything is. */
export function gpuOptions(online: string[]): string[] {
  const known = GPU_CATALOG.map((g) => g.name).filter((n, i, all) => all.indexOf(n) === i);
  const available = known.filter((n) => online.includes(n));
  return (available.length ? available : known).slice(0, 24);
}
