import type { StateCreator } from 'zustand';
import { checkModelSource, type ModelSource } from '../models/modelSource';
import { DEFAULT_MODEL_SOURCE } from './persistent';
import type { PlaygroundState } from './types';

export interface ModelSlice {
  modelSource: ModelSource;
  /** Switches to the source, or returns why it cannot be loaded (and changes nothing). */
  setModelSource(source: ModelSource): string | null;
}

export const createModelSlice: StateCreator<PlaygroundState, [], [], ModelSlice> = (set) => ({
  modelSource: DEFAULT_MODEL_SOURCE,
  setModelSource: (source) => {
    // Names become URL path segments when the model is fetched, so a bad one never reaches the store.
    const problem = checkModelSource(source);
    if (problem === null) set({ modelSource: source });
    return problem;
  },
});
