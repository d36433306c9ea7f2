import type { StateCreator } from 'zustand';
import type { RunOutput } from '../runtime/runner';
import type { PlaygroundState } from './types';

export type RunStatus = 'idle' | 'running' | 'done' | 'error';

/** The latest run; never mirrored in the URL. */
export interface RunState {
  status: RunStatus;
  /** The last successful output, kept while a newer run is pending so the panels don't blank out. */
  output: RunOutput | null;
  error: string | null;
}

export interface RunSlice {
  run: RunState;
  runStarted(): void;
  runSucceeded(output: RunOutput): void;
  runFailed(message: string): void;
}

export const createRunSlice: StateCreator<PlaygroundState, [], [], RunSlice> = (set) => ({
  run: { status: 'idle', output: null, error: null },
  runStarted: () => set((state) => ({ run: { ...state.run, status: 'running' } })),
  runSucceeded: (output) => set({ run: { status: 'done', output, error: null } }),
  runFailed: (message) => set((state) => ({ run: { status: 'error', output: state.run.output, error: message } })),
});
