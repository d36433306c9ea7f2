import type { StateCreator } from 'zustand';
import type { LoadProgress } from '../models/modelFiles';
import type { ModelInputs, RunOutput, RunRequest } from '../runtime/runner';
import { fittedToModel } from './loadedModel';
import type { PlaygroundState } from './types';

export type RunStatus = 'idle' | 'running' | 'done' | 'error';

/** The latest run; never mirrored in the URL. */
export interface RunState {
  status: RunStatus;
  /** The last successful output, kept while a newer run is pending so the panels don't blank out. */
  output: RunOutput | null;
  /** The request `output` answered: after a failed run, the panels name these settings as the last good run's. */
  outputRequest: RunRequest | null;
  error: string | null;
  /** Bytes downloaded so far while the running request loads its model; null when no model is loading. */
  modelLoad: LoadProgress | null;
}

export interface RunSlice {
  run: RunState;
  /**
   * The inputs of the model the runner loaded last: the controls offer a prompt, an eval image or a question from
   * them. Kept apart from `run` because a run that fails on its input still tells which inputs the model takes.
   */
  modelInputs: ModelInputs | null;
  runStarted(): void;
  modelLoadProgressed(progress: LoadProgress): void;
  /** Also fits the settings to the model once its shape is known (see loadedModel.ts). */
  modelReady(inputs: ModelInputs): void;
  runSucceeded(output: RunOutput, request: RunRequest): void;
  runFailed(message: string): void;
  /**
   * The model has nothing to run on until the user chooses an image: nothing ran and nothing failed. The previous
   * output (another model's, or another image's) is cleared rather than shown as if it were this one's.
   */
  runAwaitsImage(): void;
}

export const createRunSlice: StateCreator<PlaygroundState, [], [], RunSlice> = (set) => ({
  run: { status: 'idle', output: null, outputRequest: null, error: null, modelLoad: null },
  runStarted: () => set((state) => ({ run: { ...state.run, status: 'running', modelLoad: null } })),
  modelInputs: null,
  modelLoadProgressed: (progress) => set((state) => ({ run: { ...state.run, modelLoad: progress } })),
  modelReady: (modelInputs) => set((state) => ({ modelInputs, ...fittedToModel({ ...state, modelInputs }) })),
  runSucceeded: (output, outputRequest) => set({ run: { status: 'done', output, outputRequest, error: null, modelLoad: null } }),
  runFailed: (message) => set((state) => ({ run: { ...state.run, status: 'error', error: message, modelLoad: null } })),
  runAwaitsImage: () => set({ run: { status: 'idle', output: null, outputRequest: null, error: null, modelLoad: null } }),
});
