import type { ExecutionPlan, TokenMask } from './plan';

export type TimingMethod = 'timestamp-query' | 'wall-clock';

export interface ForwardTiming {
  /** Median GPU time of the forward pass(es) in milliseconds. */
  ms: number;
  method: TimingMethod;
}

/** Attention probabilities of one layer, read back from the attention kernel's capture buffer. */
export interface AttentionCapture {
  layer: number;
  heads: number;
  /** Tokens the layer computed (rows and columns of each head's map). */
  tokens: number;
  /** [heads, tokens, tokens] row-major: probs[h][query][key]; 0 where the key is masked or its block skipped. */
  probs: Float32Array;
  /** [heads, queryBlocks, keyBlocks]: 1 where the kernel computed the tile, 0 where it was skipped. */
  computedTiles: Uint8Array;
  /**
   * With a GPU estimator: [heads, queryBlocks, keyBlocks], 1 where the method computes the tile whatever the estimate
   * says (BlockEstimator.forced), so a map can tell them from the tiles the estimate chose. Null without one.
   */
  forcedTiles: Uint8Array | null;
  /** Which (query, key) rows the layer's mask lets through, base mask and token window. */
  mask: TokenMask;
  blockSize: number;
  /** Original input position of each computed token (pruning removes positions, order is kept). */
  positions: Int32Array;
}

export interface ForwardResult {
  /** The plan as it ran: each estimated layer's `selection` filled in from what its estimator wrote (sample 0). */
  plan: ExecutionPlan;
  /** Logits of the rows asked for in the plan: [rows, vocab]. With Monte-Carlo dropout, the mean over samples. */
  logits: Float32Array;
  /** Next-token probabilities of every Monte-Carlo sample: [samples, vocab] (one row without dropout). */
  sampleProbs: Float32Array;
  /** Original positions of the tokens each layer computed (index = layer). */
  layerPositions: Int32Array[];
  attention: AttentionCapture[];
  timing: ForwardTiming;
  /** Multiply-adds the dispatches of every sample asked of the GPU (KernelRecorder's tally); equals the FLOP count's. */
  dispatchedMacs: number;
}
