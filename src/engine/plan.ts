import type { TransformerConfig } from '../models/config';

/** Edge of an attention tile: query blocks and key blocks both hold this many tokens. */
export const ATTENTION_BLOCK = 16;

/** For one layer: per head, per query block, the ascending key-block indices its queries read. */
export type KeyBlockLists = readonly (readonly (readonly number[])[])[];

/** Tokens are removed at the input of `beforeLayer`; the survivors are scored from `scoreFromLayer`'s attention. */
export interface PruneStep {
  technique: string;
  beforeLayer: number;
  scoreFromLayer: number;
  tokensBefore: number;
  keep: number;
  /** The last `protectedTail` of the `tokensBefore` tokens must survive: the scorer ranks them first. */
  protectedTail: number;
  /** The mask `scoreFromLayer`'s probabilities were computed under (see LayerPlan.bidirectionalPrefix). */
  bidirectionalPrefix: number;
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

export interface DropoutSites {
  embedding: number;
  attention: number;
  residual: number;
}

export interface DropoutPlan {
  rates: DropoutSites;
  seed: number;
  /** Monte-Carlo passes; each pass uses its own index in the mask hash. */
  samples: number;
}

export interface LayerPlan {
  index: number;
  /** Tokens this layer computes (after every earlier prune step). */
  tokens: number;
  /**
   * Query i sees key j when j ≤ i or j < bidirectionalPrefix: 0 is causal attention (GPT-2), `tokens` is fully
   * bidirectional (ViT), the image-token count is a prefix LM (image tokens see each other, text stays causal).
   */
  bidirectionalPrefix: number;
  keyBlocks: KeyBlockLists;
  /** Whether the attention probabilities are written out (for a map panel or a pruning score). */
  captureAttention: boolean;
}

/** Everything a forward pass will execute, decided on the CPU before any GPU work: the FLOP counter reads this. */
export interface ExecutionPlan {
  config: TransformerConfig;
  inputTokens: number;
  blockSize: number;
  layers: LayerPlan[];
  pruning: PruneStep[];
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
