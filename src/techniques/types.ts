import type { TransformerConfig } from '../models/config';
import type { DropoutPlan, KeyBlockLists, ScorerKernel, TokenWindow } from '../engine/plan';

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
  max: number;
  step: number;
  default: number;
}
export interface ChoiceParam extends ParamBase {
  kind: 'choice';
  options: readonly { value: string; label: string }[];
  default: string;
}
export type ParamSpec = NumberParam | ChoiceParam;
export type ParamValues = Record<string, number | string>;

export interface LayerContext {
  config: TransformerConfig;
  layer: number;
  /** Tokens the layer computes. */
  tokens: number;
  /** The layer's base mask (see LayerPlan.bidirectionalPrefix). */
  bidirectionalPrefix: number;
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
  /** Where its formulas come from (paper and section of ../shared/specs). */
  reference: string;
  params: readonly ParamSpec[];
  /** Sparse attention: narrow the key blocks each (head, query block) reads in one layer. */
  restrictKeyBlocks?(lists: KeyBlockLists, context: LayerContext, params: ParamValues): KeyBlockLists;
  /**
   * Sparse attention at token granularity: the token window every query of this layer is masked to inside the
   * tiles it computes, or null for none. At most one technique may set one per layer.
   */
  restrictTokens?(context: LayerContext, params: ParamValues): TokenWindow | null;
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
