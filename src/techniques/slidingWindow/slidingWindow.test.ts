import { describe, expect, it } from 'vitest';
import { denseKeyBlocks } from '../../engine/plan';
import { parseModelConfig } from '../../models/config';
import { slidingWindow, slidingWindowBlocks } from './slidingWindow';

describe('sliding window + sinks selects key blocks at block granularity', () => {
  it('keeps the sink blocks, the blocks the window reaches and the diagonal', () => {
    // Query block 5 starts at token 80; a 20-token window reaches back to token 61, i.e. block 3.
    expect(slidingWindowBlocks(5, 4, 20, 16)).toEqual([0, 3, 4, 5]);
    // A window of exactly one block still needs the previous block for the block's first query (80 − 15 = 65).
    expect(slidingWindowBlocks(5, 0, 16, 16)).toEqual([4, 5]);
    expect(slidingWindowBlocks(5, 0, 1, 16)).toEqual([5]);
    // Sinks spanning two blocks.
    expect(slidingWindowBlocks(6, 17, 1, 16)).toEqual([0, 1, 6]);
  });

  it('is dense when the window covers everything', () => {
    expect(slidingWindowBlocks(3, 4, 1024, 16)).toEqual([0, 1, 2, 3]);
  });

  it('leaves layers before fromLayer dense and narrows the others', () => {
    const config = parseModelConfig({ n_layer: 4, n_head: 2, n_embd: 8, n_positions: 256, vocab_size: 10, layer_norm_epsilon: 1e-5 });
    const dense = denseKeyBlocks(100, 2);
    const params = { sinkTokens: 4, windowTokens: 16, fromLayer: 2 };
    expect(slidingWindow.restrictKeyBlocks!(dense, { config, layer: 1, tokens: 100, blockSize: 16, bidirectionalPrefix: 0 }, params)).toBe(dense);
    const narrowed = slidingWindow.restrictKeyBlocks!(dense, { config, layer: 2, tokens: 100, blockSize: 16, bidirectionalPrefix: 0 }, params);
    expect(narrowed[1]![6]).toEqual([0, 5, 6]);
  });
});
