import { describe, expect, test } from 'vitest';
import type { AttentionCapture } from '../engine/result';
import { attentionMapData } from './attentionData';

// 2 heads, 2 tokens, block size 1: 2×2 tiles per head.
const capture: AttentionCapture = {
  layer: 1,
  heads: 2,
  tokens: 2,
  probs: Float32Array.from([1, 0, 0.5, 0.5, 1, 0, 0.25, 0.75]),
  computedTiles: Uint8Array.from([1, 0, 1, 1, 1, 0, 0, 1]),
  forcedTiles: null,
  blockSize: 1,
  positions: Int32Array.from([0, 3]),
  mask: { tokens: 2, bidirectionalPrefix: 0, tokenWindow: null, firstTokenRow: 0 },
};
const tokens = ['a', 'b', 'c', 'd'];

describe('attentionMapData', () => {
  test('one head is a view of its slice', () => {
    const data = attentionMapData(capture, tokens, 1, 0);
    expect([...data.probs]).toEqual([1, 0, 0.25, 0.75]);
    expect([...data.computedTiles]).toEqual([1, 0, 0, 1]);
    expect(data).toMatchObject({ tokens, layer: 1, head: 1, blockSize: 1, visiblePrefix: 0 });
    expect([...data.positions]).toEqual([0, 3]);
  });

  test('the mean averages probabilities and unites computed tiles', () => {
    const data = attentionMapData(capture, tokens, 'mean', 0);
    expect([...data.probs]).toEqual([1, 0, 0.375, 0.625]);
    expect([...data.computedTiles]).toEqual([1, 0, 1, 1]);
  });
});
