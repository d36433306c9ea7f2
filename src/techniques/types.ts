import type { TransformerConfig } from '../models/config';
import type { BlockEstimator, DropoutPlan, KeyBlockLists, ReductionPoint, ScoreInput, ScorerKernel, TokenWindow } from '../engine/plan';

export type TechniqueFamily = 'sparse-attention' | 'token-pruning' | 'dropout';

interface ParamBase {
  key: string;
  label: string;
  /** One sentence shown as the control's tooltip. */
  help: string;
  /**
   * For a parameter added after links were shared: the value that reproduces what a link made before it ran, when
   * that is not the default, and what changed (said to whoever opens such a link).
   */
  inOlderLinks?: { value: number | string; change: string };
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
  /** Tokens the layer's attention computes. */
  tokens: number;
  blockSize: number;
  /** Query i sees key j when j ≤ i or j < bidirectionalPrefix (see LayerPlan). */
  bidirectionalPrefix: number;
}

export interface EstimatorContext extends LayerContext {
  /** The layer's lists after every CPU-planned restriction: the estimate's choice is a subset of them. */
  planned: KeyBlockLists;
}

export interface ReductionContext {
  config: TransformerConfig;
  /** Tokens of the whole input. */
  inputTokens: number;
  /**
   * The last `protectedTail` tokens must survive and score above every other token: the output row (last text
   * token, or a ViT's CLS) and, in a VLM, the whole instruction, so that only image tokens are pruned.
   */
  protectedTail: number;
}

/** One token reduction a technique asks for; the planner fills in the token counts as earlier steps leave them. */
export interface PlannedReduction {
  layer: number;
  point: ReductionPoint;
  input: ScoreInput;
  /** Tokens kept, given the tokens entering the step. */
  keep: (tokensBefore: number) => number;
  /** The scoring kernel for `tokensBefore` tokens whose attention had the mask of `bidirectionalPrefix`. */
  scorer: (tokensBefore: number, config: TransformerConfig, protectedTail: number, bidirectionalPrefix: number) => ScorerKernel;
}

export interface Paper {
  title: string;
  authors: string;
  venue: string;
  /** The arXiv abstract page. */
  url: string;
}

/**
 * One efficiency technique. It only describes *what* to run through these hooks; the engine runs it, the CPU
 * forward checks it and the FLOP counter counts it. See src/techniques/README.md for the contract of each hook.
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
  /**
   * Sparse attention at token granularity: the token window every query of this layer is masked to inside the
   * tiles it computes, or null for none. At most one technique may set one per layer.
   */
  restrictTokens?(context: LayerContext, params: ParamValues): TokenWindow | null;
  /**
   * Sparse attention decided on the GPU from the layer's own Q and K: the estimator that writes this layer's key-block
   * lists (and key mask), choosing within `context.planned`; null to leave the layer as planned.
   */
  estimateKeyBlocks?(context: EstimatorContext, params: ParamValues): BlockEstimator | null;
  /** Head pruning: the heads that run in one layer, a subset of `heads` (ascending). */
  restrictHeads?(heads: readonly number[], context: LayerContext, params: ParamValues): readonly number[];
  /** Token reduction: the steps it adds, any number (multi-stage methods add one per stage); none prune nothing. */
  planReductions?(context: ReductionContext, params: ParamValues): PlannedReduction[];
  /** Dropout: which sites drop, with which mask kind and rate, the seed and the Monte-Carlo sample count. */
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
