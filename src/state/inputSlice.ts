import type { StateCreator } from 'zustand';
import { DEFAULT_PROMPT, MAX_PROMPT_CHARS } from './persistent';
import type { PlaygroundState } from './types';

export interface InputSlice {
  prompt: string;
  setPrompt(prompt: string): void;
}

export const createInputSlice: StateCreator<PlaygroundState, [], [], InputSlice> = (set) => ({
  prompt: DEFAULT_PROMPT,
  // Cut rather than refuse, so a long paste still shows; a link with a longer prompt is rejected by urlState.
  setPrompt: (prompt) => set({ prompt: prompt.slice(0, MAX_PROMPT_CHARS) }),
});
