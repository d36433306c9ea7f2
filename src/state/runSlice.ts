import type { StateCreator } from 'zustand';
import type { DownloadProgress } from '../runtime/downloads';
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
}

export interface RunSlice {
  run: RunState;
  /**
   * The inputs of the model the runner loaded last: the controls offer a prompt, an eval image or a question from
   * them. Kept apart from `run` because a run that fails on its input still tells which inputs the model takes.
   */
  modelInputs: ModelInputs | null;
  /**
   * Bytes downloaded so far of a model and its dense reference's runtime; null when nothing is downloading. Kept apart
   * from `run`: the runtime may still download after our engine's result is shown.
   */
  download: DownloadProgress | null;
  runStarted(): void;
  downloadProgressed(progress: DownloadProgress): void;
  /** Also fits the settings to the model once its shape is known (see loadedModel.ts). */
  modelReady(inputs: ModelInputs): void;
  runSucceeded(output: RunOutput, request: RunRequest): void;
  /** The dense reference completed an output shown without it; ignored when another output is shown by now. */
  denseReferenceArrived(complete: RunOutput): void;
  runFailed(message: string): void;
  /**
   * The model has nothing to run on until the user chooses an image: nothing ran and nothing failed. The previous
   * output (another model's, or another image's) is cleared rather than shown as if it were this one's.
   */
  runAwaitsImage(): void;
}

export const createRunSlice: StateCreator<PlaygroundState, [], [], RunSlice> = (set) => ({
  run: { status: 'idle', output: null, outputRequest: null, error: null },
  runStarted: () => set((state) => ({ run: { ...state.run, status: 'running' } })),
  modelInputs: null,
  download: null,
  downloadProgressed: (progress) => set({ download: progress.loadedBytes === progress.totalBytes ? null : progress }),
  modelReady: (modelInputs) => set((state) => ({ modelInputs, ...fittedToModel({ ...state, modelInputs }) })),
  runSucceeded: (output, outputRequest) => set({ run: { status: 'done', output, outputRequest, error: null } }),
  denseReferenceArrived: (complete) =>
    set((state) => (state.run.output?.forward === complete.forward ? { run: { ...state.run, output: complete } } : {})),
  // A failed load stops its download; one that goes on (the run failed on its input) reports again at its next chunk.
  runFailed: (message) => set((state) => ({ run: { ...state.run, status: 'error', error: message }, download: null })),
  runAwaitsImage: () => set({ run: { status: 'idle', output: null, outputRequest: null, error: null } }),
});
