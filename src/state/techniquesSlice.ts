import type { StateCreator } from 'zustand';
import { techniqueById } from '../techniques/registry';
import { defaultParams, paramRange, type ModelShape, type ParamSpec } from '../techniques/types';
import { selectModelInputs } from './loadedModel';
import { defaultTechniques, type TechniqueState } from './persistent';
import type { PlaygroundState } from './types';

export interface TechniquesSlice {
  techniques: Record<string, TechniqueState>;
  setTechniqueEnabled(id: string, enabled: boolean): void;
  /**
   * Coerces the value into the parameter's spec (clamped, to the loaded model's layers too; integer or snapped to the
   * step; a known option).
   */
  setTechniqueParam(id: string, key: string, value: number | string): void;
  resetTechniqueParams(id: string): void;
}

export const createTechniquesSlice: StateCreator<PlaygroundState, [], [], TechniquesSlice> = (set) => {
  const update = (id: string, change: (entry: TechniqueState, state: PlaygroundState) => TechniqueState) =>
    set((state) => {
      const entry = state.techniques[id];
      return entry ? { techniques: { ...state.techniques, [id]: change(entry, state) } } : {};
    });
  return {
    techniques: defaultTechniques(),
    setTechniqueEnabled: (id, enabled) => update(id, (entry) => ({ ...entry, enabled })),
    setTechniqueParam: (id, key, value) => {
      const spec = techniqueById(id)?.params.find((p) => p.key === key);
      if (!spec) return;
      update(id, (entry, state) => {
        const coerced = coerceParam(spec, value, entry.params[key] ?? spec.default, selectModelInputs(state)?.shape ?? null);
        return { ...entry, params: { ...entry.params, [key]: coerced } };
      });
    },
    resetTechniqueParams: (id) => {
      const technique = techniqueById(id);
      if (technique) update(id, (entry) => ({ ...entry, params: defaultParams(technique) }));
    },
  };
};

/**
 * The value the spec allows (on the model of `shape`, if known) that is nearest to `value`; `fallback` when it is not
 * a number or not an option.
 */
export function coerceParam(spec: ParamSpec, value: number | string, fallback: number | string, shape: ModelShape | null): number | string {
  if (spec.kind === 'choice') return spec.options.some((o) => o.value === value) ? value : fallback;
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(number)) return fallback;
  const { min, max } = paramRange(spec, shape);
  const clamped = Math.min(max, Math.max(min, number));
  if (spec.kind === 'int') return Math.round(clamped);
  // Slider arithmetic leaves 0.15000000000000002; keep the step's decimals so links stay short and readable.
  return Number(clamped.toFixed(stepDecimals(spec.step)));
}

function stepDecimals(step: number): number {
  const text = String(step);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}
