import type { StateCreator } from 'zustand';
import type { RgbImage } from '../models/image';
import type { ImageChoice } from '../runtime/runner';
import { DEFAULT_PROMPT, defaultImageChoice, MAX_EVAL_ITEMS, MAX_PROMPT_CHARS } from './persistent';
import type { PlaygroundState } from './types';

export interface InputSlice {
  prompt: string;
  /** An uploaded image lives only here, in memory: a link says that one was used but cannot carry it. */
  image: ImageChoice;
  setPrompt(prompt: string): void;
  /** Picks an eval image; a VLM is then asked that item's own question. */
  setEvalItem(item: number): void;
  /** Runs the model on an image of the user's, already cut to the model's input; a typed question stays. */
  setUploadedImage(name: string, image: RgbImage): void;
  /** The VLM's question in place of the eval item's own. */
  setQuestion(question: string): void;
  /** Back to the eval item's own question. */
  resetQuestion(): void;
}

export const createInputSlice: StateCreator<PlaygroundState, [], [], InputSlice> = (set) => {
  let uploads = 0;
  return {
    prompt: DEFAULT_PROMPT,
    image: defaultImageChoice(),
    // Cut rather than refuse, so a long paste still shows; a link's longer prompt is left out by urlState, with a note.
    setPrompt: (prompt) => set({ prompt: prompt.slice(0, MAX_PROMPT_CHARS) }),
    // The model's eval set may be smaller: the runner names its range when the item is past it. Choosing an image
    // answers a link's request for one, so its note goes.
    setEvalItem: (item) => {
      if (Number.isInteger(item) && item >= 0 && item < MAX_EVAL_ITEMS) set({ image: { source: { kind: 'eval', item }, question: null }, linkImageLeftOut: false });
    },
    setUploadedImage: (name, image) => {
      uploads += 1;
      const upload = { id: uploads, name, image };
      set((state) => ({ image: { source: { kind: 'uploaded', upload }, question: state.image.question }, linkImageLeftOut: false }));
    },
    setQuestion: (question) => set((state) => ({ image: { ...state.image, question: question.slice(0, MAX_PROMPT_CHARS) } })),
    resetQuestion: () => set((state) => ({ image: { ...state.image, question: null } })),
  };
};
