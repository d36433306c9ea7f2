import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { createInputSlice } from './inputSlice';
import { createLinkSlice } from './linkSlice';
import { createModelSlice } from './modelSlice';
import { createRunSlice } from './runSlice';
import { createTechniquesSlice } from './techniquesSlice';
import type { PlaygroundState } from './types';
import { createViewSlice } from './viewSlice';
import { activeTechniques, linkedImageChoice, type PersistentState } from './persistent';
import type { RunRequest } from '../runtime/runner';

export { selectModelInputs } from './loadedModel';

export type PlaygroundStore = StoreApi<PlaygroundState>;

/** A fresh store; the app uses one (`playgroundStore`), tests make their own. Middleware would go here only. */
export function createPlaygroundStore(): PlaygroundStore {
  return createStore<PlaygroundState>()((...a) => ({
    ...createModelSlice(...a),
    ...createInputSlice(...a),
    ...createTechniquesSlice(...a),
    ...createViewSlice(...a),
    ...createRunSlice(...a),
    ...createLinkSlice(...a),
  }));
}

/** What a link reproduces, read out of the full state. */
export function selectPersistent(state: PlaygroundState): PersistentState {
  return { modelSource: state.modelSource, prompt: state.prompt, image: linkedImageChoice(state.image), techniques: state.techniques, view: state.view };
}

/** What the model is run with: only the fields that change its output (not the head or panel choices). */
export function selectRunRequest(state: PlaygroundState): RunRequest {
  return {
    modelSource: state.modelSource,
    prompt: state.prompt,
    image: state.image,
    active: activeTechniques(state),
    view: { layer: state.view.layer },
  };
}

/** What the output on show answers: its input (the request's key without the view's layer) and the layers it captured. */
export interface AnsweredRun {
  inputKey: string;
  attentionLayers: readonly number[];
}

/**
 * Equal for requests that give equal outputs. The view's layer is left out when the output on show answers the
 * request's input and captured that layer (the runner captures every layer of inputs that are not too long), so
 * choosing another layer only redraws. An uploaded image counts by its id, not its pixels: a JSON copy of a
 * 224 × 224 image would be megabytes of text on every keystroke.
 */
export function runRequestKey(request: RunRequest, answered: AnsweredRun | null = null): string {
  const inputKey = runInputKey(request);
  const layerNeedsRun = answered?.inputKey === inputKey && !answered.attentionLayers.includes(request.view.layer);
  return layerNeedsRun ? `${inputKey} layer ${request.view.layer}` : inputKey;
}

/** The request's key without the view's layer: equal for requests on the same input with the same techniques. */
export function runInputKey(request: RunRequest): string {
  return JSON.stringify({ ...request, view: undefined }, (_key, value: unknown) => (value instanceof Uint8Array ? undefined : value));
}

/**
 * Whether the change from `previous` is an edit that more keystrokes or slider steps may follow (the prompt, a
 * question, a technique's parameters), rather than a switch or a menu choice, which should run at once.
 */
export function isContinuousEdit(previous: RunRequest | null, next: RunRequest): boolean {
  if (!previous) return false;
  const switchedOn = (request: RunRequest) => request.active.map((t) => t.id).join(' ');
  const sameChoices =
    JSON.stringify(previous.modelSource) === JSON.stringify(next.modelSource) &&
    JSON.stringify(previous.image.source) === JSON.stringify(next.image.source) &&
    switchedOn(previous) === switchedOn(next) &&
    previous.view.layer === next.view.layer;
  return sameChoices;
}

export const playgroundStore = createPlaygroundStore();

export function usePlayground<T>(selector: (state: PlaygroundState) => T): T {
  return useStore(playgroundStore, selector);
}
