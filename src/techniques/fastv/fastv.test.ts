import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../models/config';
import { fastv, fastvKeepCount, fastvScores } from './fastv';

const config = parseModelConfig({ n_layer: 4, n_head: 2, n_embd: 8, n_positions: 256, vocab_size: 10, layer_norm_epsilon: 1e-5 });

describe('FastV', () => {
  it('keeps the last token and round((n−1)(1−R)) of the others', () => {
    expect(fastvKeepCount(45, 0.5)).toBe(23);
    expect(fastvKeepCount(10, 0.75)).toBe(1 + 2); // round(9 · 0.25) = round(2.25) = 2
    expect(fastvKeepCount(10, 0)).toBe(10);
    expect(fastvKeepCount(1, 0.9)).toBe(1);
  });

  it('scores by the last query row, or by the mean over all queries as the paper writes', () => {
    // Two heads, three tokens: A[h][i][j].
    const probs = Float32Array.from([
      1, 0, 0, /**/ 0.5, 0.5, 0, /**/ 0.2, 0.3, 0.5,
      1, 0, 0, /**/ 0.9, 0.1, 0, /**/ 0.6, 0.2, 0.2,
    ]);
    const last = fastvScores(probs, 2, 3, 'last');
    expect(last[0]).toBeCloseTo((0.2 + 0.6) / 2);
    expect(last[1]).toBeCloseTo((0.3 + 0.2) / 2);
    const all = fastvScores(probs, 2, 3, 'all');
    expect(all[0]).toBeCloseTo(((1 + 0.5 + 0.2) / 3 + (1 + 0.9 + 0.6) / 3) / 2);
    expect(all[1]).toBeCloseTo(((0.5 + 0.3) / 3 + (0.1 + 0.2) / 3) / 2);
    expect(last[2]).toBeGreaterThan(1e30);
  });

  it('plans one reduction at the input of layer K scored by layer K−1, nothing for R = 0, and says when K is past the last layer', () => {
    const [reduction, ...more] = fastv.planReductions!({ config, inputTokens: 40, protectedTail: 1 }, { layer: 2, ratio: 0.5, queries: 'last' });
    expect(more).toEqual([]);
    expect(reduction!.layer).toBe(2);
    expect(reduction!.point).toBe('input');
    expect(reduction!.input).toEqual({ kind: 'attention-probs', layer: 1 });
    expect(reduction!.scorer(40, config, 1).macs).toBe(2 * 39);
    expect(fastv.planReductions!({ config, inputTokens: 40, protectedTail: 1 }, { layer: 2, ratio: 0, queries: 'last' })).toEqual([]);
    expect(() => fastv.planReductions!({ config, inputTokens: 40, protectedTail: 1 }, { layer: 4, ratio: 0.5, queries: 'last' })).toThrow(/has 4 layers \(0–3\): choose K from 1 to 3/);
  });
});
