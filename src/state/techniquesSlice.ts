import type { StateCreator } from 'zustand';
import { techniqueById } from '../techniques/registry';
import { defaultParams, type ParamSpec } from '../techniques/types';
import { defaultTechniques, type TechniqueState } from './persistent';
import type { PlaygroundState } from './types';

export interface TechniquesSlice {
  techniques: Record<string, TechniqueState>;
  setTechniqueEnabled(id: string, enabled: boolean): void;
  /** Coerces the value into the parameter's spec (clamped, integer or snapped to the step, a known option). */
  setTechniqueParam(id: string, key: string, value: number | string): void;
  resetTechniqueParams(id: string): void;
}

export const createTechniquesSlice: StateCreator<PlaygroundState, [], [], TechniquesSlice> = (set) => {
  const update = (id: string, change: (entry: TechniqueState) => TechniqueState) =>
    set((state) => {
      const entry = state.techniques[id];
      return entry ? { techniques: { ...state.techniques, [id]: change(entry) } } : {};
    });
  return {
    techniques: defaultTechniques(),
    setTechniqueEnabled: (id, enabled) => update(id, (entry) => ({ ...entry, enabled })),
    setTechniqueParam: (id, key, value) => {
      const spec = techniqueById(id)?.params.find((p) => p.key === key);
      if (!spec) return;
      update(id, (entry) => {
        const coerced = coerceParam(spec, value, entry.params[key] ?? spec.default);
        return { ...entry, params: { ...entry.params, [key]: coerced } };
      });
    },
    resetTechniqueParams: (id) => {
      const technique = techniqueById(id);
      if (technique) update(id, (entry) => ({ ...entry, params: defaultParams(technique) }));
    },
  };
};

/** The value the spec allows that is nearest to `value`; `fallback` when it is not a number or not an option. */
export function coerceParam(spec: ParamSpec, value: number | string, fallback: number | string): number | string {
  if (spec.kind === 'choice') return spec.options.some((o) => o.value === value) ? value : fallback;
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(number)) return fallback;
  const clamped = Math.min(spec.max, Math.max(spec.min, number));
  if (spec.kind === 'int') return Math.round(clamped);
  // Slider arithmetic leaves 0.15000000000000002; keep the step's decimals so links stay short and readable.
  return Number(clamped.toFixed(stepDecimals(spec.step)));
}

function stepDecimals(step: number): number {
  const text = String(step);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}
