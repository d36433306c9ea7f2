import type { StateCreator } from 'zustand';
import { checkModelSource, modelSourceKey, type ModelSource } from '../models/modelSource';
import { DEFAULT_MODEL_SOURCE, defaultImageChoice } from './persistent';
import type { PlaygroundState } from './types';

export interface ModelSlice {
  modelSource: ModelSource;
  /**
   * Switches to the source, or returns why it cannot be loaded (and changes nothing). Another model starts on its
   * first eval image with that image's own question: an eval index means nothing across eval sets, and an uploaded
   * image was cut to the previous model's input size.
   */
  setModelSource(source: ModelSource): string | null;
}

export const createModelSlice: StateCreator<PlaygroundState, [], [], ModelSlice> = (set) => ({
  modelSource: DEFAULT_MODEL_SOURCE,
  setModelSource: (source) => {
    // Names become URL path segments when the model is fetched, so a bad one never reaches the store.
    const problem = checkModelSource(source);
    if (problem === null) {
      set((state) => (modelSourceKey(state.modelSource) === modelSourceKey(source) ? { modelSource: source } : { modelSource: source, image: defaultImageChoice() }));
    }
    return problem;
  },
});
