import type { LmEvalItem } from '../eval/lmHarness';
import type { ModelSource } from '../models/modelSource';
import type { ImageChoice } from '../runtime/runner';
import { techniques } from '../techniques/registry';
import { defaultParams, type ActiveTechnique, type ParamValues } from '../techniques/types';

/** The part of the playground a shared link reproduces (see urlState.ts); run results are never part of it. */
export interface PersistentState {
  /** Bundled and hub sources travel in a link; dropped files cannot (the link then says so). */
  modelSource: ModelSource;
  /** A text model's input. */
  prompt: string;
  /** An image model's input: which eval image (or that it was the user's own), and the VLM's question about it. */
  image: LinkedImageChoice;
  /** Keyed by technique id; every registry technique has an entry. */
  techniques: Record<string, TechniqueState>;
  view: ViewState;
}

/**
 * An image model's input as a link carries it: the eval item, or only the fact that the sender ran the model on an
 * image of their own, since a link cannot carry its pixels.
 */
export interface LinkedImageChoice {
  source: { kind: 'eval'; item: number } | { kind: 'uploaded' };
  question: string | null;
}

export interface TechniqueState {
  enabled: boolean;
  params: ParamValues;
}

// Listed in link order: `image` came last, so links made before it still read the same.
export const PANEL_IDS = ['attention', 'flops', 'predictions', 'survival', 'image'] as const;
export type PanelId = (typeof PANEL_IDS)[number];

export interface ViewState {
  layer: number;
  /** A head index, or the mean over heads. */
  head: number | 'mean';
  panels: Record<PanelId, boolean>;
  /** Teacher mode: the control column is hidden so a lesson shows only the panels. */
  controlsHidden: boolean;
}

export const DEFAULT_MODEL_SOURCE: ModelSource = { kind: 'bundled', name: 'recall-lm' };
// Repeats itself so the second "The quick brown" can attend back to the first: induction-style patterns show up.
/** A needle-in-a-haystack question for recall-lm (format in its model card): after "?M" it should answer 253. */
export const DEFAULT_PROMPT =
  'the cat sat by the river at night. K417; a fox walked to the garden. my friend sold some bread. M253; the old man lost the market slowly. P608; her sister made a boat?M';
/**
 * The default prompt as an item of recall-lm's eval set would describe it, so the page can say what it asks and what
 * the answer should be (it is not in eval.json, whose items are of fixed lengths).
 */
export const DEFAULT_PROMPT_ITEM: LmEvalItem = { task: 'needle', length: DEFAULT_PROMPT.length + 3, prompt: DEFAULT_PROMPT, answer: '253', key: 'M' };
/** Longest prompt (or VLM question) accepted (characters): past it neither the text box nor a link is taken. */
export const MAX_PROMPT_CHARS = 4096;
/** Bound on an eval image index before the model's eval set is known (the bundled ones have 200 and 400 items). */
export const MAX_EVAL_ITEMS = 100_000;
/** GPT-2 XL has 48 layers and 25 heads; the view's indices are bounded by these before the model is known. */
export const MAX_LAYERS = 48;
export const MAX_HEADS = 128;

export function defaultTechniques(): Record<string, TechniqueState> {
  return Object.fromEntries(techniques.map((t) => [t.id, { enabled: false, params: defaultParams(t) }]));
}

export function defaultView(): ViewState {
  return {
    layer: 0,
    head: 'mean',
    panels: { attention: true, flops: true, predictions: true, survival: true, image: true },
    controlsHidden: false,
  };
}

/** A model's first eval image, asked its own question: what an image model starts with. */
export function defaultImageChoice(): ImageChoice {
  return { source: { kind: 'eval', item: 0 }, question: null };
}

/** The image choice as a link carries it: an uploaded image leaves its pixels behind. */
export function linkedImageChoice(choice: ImageChoice): LinkedImageChoice {
  return choice.source.kind === 'uploaded' ? { source: { kind: 'uploaded' }, question: choice.question } : choice;
}

export function defaultPersistentState(): PersistentState {
  return { modelSource: DEFAULT_MODEL_SOURCE, prompt: DEFAULT_PROMPT, image: defaultImageChoice(), techniques: defaultTechniques(), view: defaultView() };
}

/** The enabled techniques in registry order, which is the order the plan applies them. */
export function activeTechniques(state: Pick<PersistentState, 'techniques'>): ActiveTechnique[] {
  return techniques.flatMap((t) => {
    const entry = state.techniques[t.id];
    return entry?.enabled ? [{ id: t.id, params: { ...entry.params } }] : [];
  });
}
