import type { StateCreator } from 'zustand';
import { DEFAULT_MODEL_ID, MODEL_ID_PATTERN } from './persistent';
import type { PlaygroundState } from './types';

export interface ModelSlice {
  modelId: string;
  setModel(modelId: string): void;
}

export const createModelSlice: StateCreator<PlaygroundState, [], [], ModelSlice> = (set) => ({
  modelId: DEFAULT_MODEL_ID,
  setModel: (modelId) => {
    // The id becomes a URL path segment when the runner fetches the model, so anything else is refused here too.
    if (MODEL_ID_PATTERN.test(modelId)) set({ modelId });
  },
});
