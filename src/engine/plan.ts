import type { TransformerConfig } from '../models/config';

/** Edge of an attention tile: query blocks and key blocks both hold this many tokens. */
export const ATTENTION_BLOCK = 16;

/** For one layer: per head, per query block, the ascending key-block indices its queries read. */
export type KeyBlockLists = readonly (readonly (readonly number[])[])[];

/** Where in a layer a reduction step removes tokens: before the layer's first op, or after its attention sublayer. */
export type ReductionPoint = 'input' | 'after-attention';

/** What a reduction step's scorer reads: the attention probabilities [heads, n, n] of an earlier layer. */
export interface ProbabilitiesInput {
  kind: 'attention-probs';
  layer: number;
}
export type ScoreInput = ProbabilitiesInput;

/**
 * A token reduction: the survivors of `tokensBefore` tokens, `keep` of them, continue in order. `kind: 'select'`
 * keeps the top-scored tokens as they are (pruning); merging (ToMe, VisionDrop) will add a kind that carries the
 * merged tokens' sizes and sources.
 */
export interface ReductionStep {
  technique: string;
  layer: number;
  point: ReductionPoint;
  input: ScoreInput;
  kind: 'select';
  tokensBefore: number;
  keep: number;
  /** Mask of the scored attention: query i sees key j when j ≤ i or j < bidirectionalPrefix. */
  bidirectionalPrefix: number;
  /** The last `protectedTail` tokens always survive (the output row; a VLM's whole instruction). */
  protectedTail: number;
  /** WGSL scoring kernel supplied by the technique (see src/techniques/README.md for its bindings). */
  scorer: ScorerKernel;
}

export interface ScorerKernel {
  /** WGSL source with entry point `main`; it may use the `#include` directive of src/engine/wgsl.ts. */
  source: string;
  constants: Record<string, number>;
  /** Multiply-adds of the scoring pass, for the FLOP counter. */
  macs: number;
  /**
   * CPU twin of the kernel: scores from probabilities [heads, tokens, tokens] computed under the mask of
   * `bidirectionalPrefix`, the last `protectedTail` tokens scored above every other.
   */
  reference: (probs: Float32Array, heads: number, tokens: number, bidirectionalPrefix: number, protectedTail: number) => Float32Array;
}

/**
 * Places a dropout mask can apply: the embedding rows, the attention probabilities (after the softmax), and the
 * output of each sublayer before its residual add.
 */
export type DropoutSiteName = 'embedding' | 'attention-probs' | 'attention-output' | 'mlp-output';

/**
 * How a site's mask is drawn. 'element': each element on its own, with inverted scaling (standard dropout).
 * 'layer': the whole sublayer at once, per Monte-Carlo sample (LayerDrop, stochastic depth): a dropped sublayer is
 * not computed, its residual passes through, so the work differs from sample to sample.
 */
export type MaskKind = 'element' | 'layer';

export interface DropoutSiteRule {
  site: DropoutSiteName;
  kind: MaskKind;
  rate: number;
}

/** The mask kinds each site can take: whole sublayers can only be dropped at a sublayer's output. */
export const SITE_MASK_KINDS: Readonly<Record<DropoutSiteName, readonly MaskKind[]>> = {
  embedding: ['element'],
  'attention-probs': ['element'],
  'attention-output': ['element', 'layer'],
  'mlp-output': ['element', 'layer'],
};

export interface DropoutPlan {
  /** At most one rule per site, each with a rate above 0. */
  sites: readonly DropoutSiteRule[];
  seed: number;
  /** Monte-Carlo passes; each pass uses its own index in the mask hash. */
  samples: number;
}

export interface LayerPlan {
  index: number;
  /** Tokens the layer's attention computes (after every earlier reduction step). */
  tokens: number;
  /**
   * Query i sees key j when j ≤ i or j < bidirectionalPrefix: 0 is causal attention (GPT-2), `tokens` is fully
   * bidirectional (ViT), the image-token count is a prefix LM (image tokens see each other, text stays causal).
   */
  bidirectionalPrefix: number;
  /** Heads whose attention runs, ascending; a masked head is not dispatched, its output is 0 and it costs nothing. */
  heads: readonly number[];
  /** One entry per head of the model; the entries of masked heads are ignored. */
  keyBlocks: KeyBlockLists;
  /** Whether the attention probabilities are written out (for a map panel or a reduction step's score). */
  captureAttention: boolean;
}

/** Everything a forward pass will execute, decided on the CPU before any GPU work: the FLOP counter reads this. */
export interface ExecutionPlan {
  config: TransformerConfig;
  inputTokens: number;
  blockSize: number;
  layers: LayerPlan[];
  /** In execution order: by layer, 'input' before 'after-attention'. */
  reductions: ReductionStep[];
  dropout: DropoutPlan | null;
  /** 'all' computes logits for every surviving position (parity tests); 'last' only for the next token. */
  logitsRows: 'last' | 'all';
  /** Names of the techniques that shaped this plan, in registry order. */
  techniques: string[];
}

/** Number of blocks of `blockSize` needed for `tokens` tokens. */
export function blockCount(tokens: number, blockSize = ATTENTION_BLOCK): number {
  return Math.ceil(tokens / blockSize);
}

/** Dense lists: query block q reads every key block its mask allows, 0..q and any block inside the prefix. */
export function denseKeyBlocks(tokens: number, heads: number, bidirectionalPrefix = 0, blockSize = ATTENTION_BLOCK): KeyBlockLists {
  const perHead = Array.from({ length: blockCount(tokens, blockSize) }, (_, q) =>
    Array.from({ length: Math.max(q, lastVisibleBlock(q, bidirectionalPrefix, blockSize)) + 1 }, (_, k) => k),
  );
  return Array.from({ length: heads }, () => perHead);
}

/** The last key block any query of block q may read: its own, or the last block touching the prefix. */
export function lastVisibleBlock(queryBlock: number, bidirectionalPrefix: number, blockSize = ATTENTION_BLOCK): number {
  return Math.max(queryBlock, blockCount(bidirectionalPrefix, blockSize) - 1);
}

/** Every head of the model, for a layer no technique masks heads in. */
export function allHeads(config: TransformerConfig): number[] {
  return Array.from({ length: config.n_head }, (_, h) => h);
}

/** The reduction steps placed at one point of one layer, in execution order. */
export function reductionsAt(plan: Pick<ExecutionPlan, 'reductions'>, layer: number, point: ReductionPoint): ReductionStep[] {
  return plan.reductions.filter((step) => step.layer === layer && step.point === point);
}
