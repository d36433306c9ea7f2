import type { TransformerConfig } from '../models/config';
import type { DropoutPlan, KeyBlockLists, ScorerKernel } from '../engine/plan';

export type TechniqueFamily = 'sparse-attention' | 'token-pruning' | 'dropout';

interface ParamBase {
  key: string;
  label: string;
  /** One sentence shown as the control's tooltip. */
  help: string;
}
export interface NumberParam extends ParamBase {
  kind: 'int' | 'float';
  min: number;
  /** The bound on any model; a `modelIndex` parameter is bounded further by the loaded model (see paramRange). */
  max: number;
  step: number;
  default: number;
  /**
   * The parameter is an index into the model's layers, so the loaded model bounds it by its last layer. Declared as
   * data rather than as a function so that the URL reader, the store and the UI all derive the same range from it.
   */
  modelIndex?: 'layer';
}
export interface ChoiceParam extends ParamBase {
  kind: 'choice';
  options: readonly { value: string; label: string }[];
  default: string;
}
export type ParamSpec = NumberParam | ChoiceParam;
export type ParamValues = Record<string, number | string>;

/** What a parameter's range needs to know of the loaded model. */
export type ModelShape = Pick<TransformerConfig, 'n_layer'>;

/**
 * The values a number parameter allows on a model (`shape`), or on any model (null: none loaded yet). Never empty:
 * on a model too shallow for the parameter's minimum (FastV on one layer) the range is the minimum alone, and the
 * technique's plan says why it cannot run there.
 */
export function paramRange(spec: NumberParam, shape: ModelShape | null): { min: number; max: number } {
  if (spec.modelIndex !== 'layer' || shape === null) return { min: spec.min, max: spec.max };
  return { min: spec.min, max: Math.max(spec.min, Math.min(spec.max, shape.n_layer - 1)) };
}

export interface LayerContext {
  config: TransformerConfig;
  layer: number;
  /** Tokens the layer computes. */
  tokens: number;
  blockSize: number;
}

export interface PruneContext {
  config: TransformerConfig;
  /** Tokens of the whole input. */
  inputTokens: number;
  /**
   * The last `protectedTail` tokens must survive and score above every other token: the output row (last text
   * token, or a ViT's CLS) and, in a VLM, the whole instruction, so that only image tokens are pruned.
   */
  protectedTail: number;
}

export interface PlannedPrune {
  beforeLayer: number;
  scoreFromLayer: number;
  /** Tokens kept, given the tokens entering `beforeLayer`. */
  keep: (tokensBefore: number) => number;
  scorer: (tokensBefore: number, config: TransformerConfig, protectedTail: number) => ScorerKernel;
}

export interface Paper {
  title: string;
  authors: string;
  venue: string;
  /** The arXiv abstract page. */
  url: string;
}

/**
 * One efficiency technique. It only describes *what* to run through these hooks; the engine runs it.
 * See src/techniques/README.md for the contract of each hook.
 */
export interface Technique {
  id: string;
  label: string;
  family: TechniqueFamily;
  /** One or two sentences for the UI. */
  summary: string;
  /** The paper the technique comes from, which the UI links to. */
  paper: Paper;
  /** The section of ../shared/specs its formulas follow; for developers, never shown in the UI. */
  spec: string;
  params: readonly ParamSpec[];
  /** Sparse attention: narrow the key blocks each (head, query block) reads in one layer. */
  restrictKeyBlocks?(lists: KeyBlockLists, context: LayerContext, params: ParamValues): KeyBlockLists;
  /** Token pruning: where to prune and how to score; null when the parameters prune nothing. */
  planPrune?(context: PruneContext, params: ParamValues): PlannedPrune | null;
  /** Dropout: which sites drop with which rate, the seed and the Monte-Carlo sample count. */
  planDropout?(params: ParamValues): DropoutPlan;
}

/** A technique switched on with its parameter values, as the store and the URL hold it. */
export interface ActiveTechnique {
  id: string;
  params: ParamValues;
}

export function defaultParams(technique: Technique): ParamValues {
  return Object.fromEntries(technique.params.map((p) => [p.key, p.default]));
}
