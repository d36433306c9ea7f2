import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../models/config';
import { keyVisible, tileVisible, tokenMask, visibleKeyCount, type TokenMask } from './plan';

describe('the token mask', () => {
  it('a window alone: causal rows keep i − W < j ≤ i, bidirectional rows |i − j| < W, sinks always', () => {
    const causal: TokenMask = { tokens: 40, bidirectionalPrefix: 0, tokenWindow: { sinks: 2, window: 3 }, firstTokenRow: 0 };
    expect([...Array(40).keys()].filter((j) => keyVisible(causal, 20, j))).toEqual([0, 1, 18, 19, 20]);
    const bidirectional = { ...causal, bidirectionalPrefix: 40 };
    expect([...Array(40).keys()].filter((j) => keyVisible(bidirectional, 20, j))).toEqual([0, 1, 18, 19, 20, 21, 22]);
  });

  it('on a ViT counts from the CLS row, which the engine keeps last: CLS is sink token 0, patch 0 is token 1', () => {
    const vit = parseModelConfig({
      model_type: 'vit', hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, image_size: 16,
      patch_size: 4, num_channels: 3, id2label: { 0: 'a' },
    });
    const mask = tokenMask(vit, { tokens: 17, bidirectionalPrefix: 17, tokenWindow: { sinks: 1, window: 2 } });
    expect(mask.firstTokenRow).toBe(16);
    expect([...Array(17).keys()].filter((j) => keyVisible(mask, 5, j))).toEqual([4, 5, 6, 16]);
    // Patch 0 and CLS are neighbours in the model's order (tokens 1 and 0), not 16 rows apart.
    expect([...Array(17).keys()].filter((j) => keyVisible(mask, 0, j))).toEqual([0, 1, 16]);
    expect([...Array(17).keys()].filter((j) => keyVisible(mask, 16, j))).toEqual([0, 16]);
    const gpt2 = parseModelConfig({ n_layer: 1, n_head: 2, n_embd: 8, n_positions: 64, vocab_size: 10, layer_norm_epsilon: 1e-5 });
    expect(tokenMask(gpt2, { tokens: 17, bidirectionalPrefix: 0, tokenWindow: null }).firstTokenRow).toBe(0);
  });

  it('visibleKeyCount counts what keyVisible admits key by key, for every mask shape', () => {
    const tokens = 23;
    let checked = 0;
    for (const bidirectionalPrefix of [0, 9, tokens]) {
      for (const firstTokenRow of [0, 5, tokens - 1]) {
        for (const tokenWindow of [null, { sinks: 0, window: 1 }, { sinks: 3, window: 4 }, { sinks: 7, window: 2 }, { sinks: 0, window: 30 }]) {
          const mask = { tokens, bidirectionalPrefix, tokenWindow, firstTokenRow };
          for (let query = 0; query < tokens; query++) {
            for (let start = 0; start < tokens; start += 4) {
              for (const end of [start + 1, start + 4, start + 16, tokens]) {
                let expected = 0;
                for (let key = start; key < Math.min(end, tokens); key++) if (keyVisible(mask, query, key)) expected++;
                expect(visibleKeyCount(mask, query, start, end)).toBe(expected);
                checked++;
              }
            }
          }
        }
      }
    }
    expect(checked).toBe(3 * 3 * 5 * tokens * 6 * 4);
  });

  it('a tile is visible when any of its pairs is', () => {
    const mask: TokenMask = { tokens: 100, bidirectionalPrefix: 0, tokenWindow: { sinks: 4, window: 20 }, firstTokenRow: 0 };
    // Query block 5 (rows 80–95): its first query reaches back to key 61, in block 3; block 2 holds no sink.
    expect([0, 1, 2, 3, 4, 5, 6].filter((k) => tileVisible(mask, 5, k, 16))).toEqual([0, 3, 4, 5]);
  });
});
