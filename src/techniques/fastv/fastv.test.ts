import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../models/config';
import { buildPlan } from '../buildPlan';
import { fastv, fastvKeepCount, fastvScorer, fastvScores } from './fastv';

const config = parseModelConfig({ n_layer: 4, n_head: 2, n_embd: 8, n_positions: 256, vocab_size: 10, layer_norm_epsilon: 1e-5 });

describe('FastV kept count', () => {
  it('keeps the protected tail and round(V·(1−R)) of the V others', () => {
    expect(fastvKeepCount(45, 0.5)).toBe(1 + 22);
    expect(fastvKeepCount(10, 0.75)).toBe(1 + 2); // round(9 · 0.25) = round(2.25) = 2
    expect(fastvKeepCount(10, 0)).toBe(10);
    expect(fastvKeepCount(1, 0.9)).toBe(1);
  });

  it('rounds half-way points to even, as Python\'s round in the authors\' code does', () => {
    expect(fastvKeepCount(6, 0.5)).toBe(1 + 2); // round(2.5) = 2; half up would keep 4
    expect(fastvKeepCount(530, 0.5)).toBe(1 + 264); // round(264.5) = 264; half up would keep 266
    expect(fastvKeepCount(4, 0.5)).toBe(1 + 2); // round(1.5) = 2
    expect(fastvKeepCount(11, 0.5, 6)).toBe(6 + 2); // a VLM's 6-token question and 5 image tokens
  });

  it('rounds the double V·(1−R) itself, as Python computes it, not the decimal product', () => {
    // Python: 15 * (1 - 0.7) == 4.500000000000001 and 50 * (1 - 0.45) == 27.500000000000004, so round goes up;
    // 30 * (1 - 0.55) == 13.499999999999998 goes down.
    expect(fastvKeepCount(16, 0.7)).toBe(1 + 5);
    expect(fastvKeepCount(51, 0.45)).toBe(1 + 28);
    expect(fastvKeepCount(31, 0.55)).toBe(1 + 13);
  });

  it('over the UI\'s grid (n = 2…1024, R = 0.05…0.95) matches Python and differs from half-up rounding in 722 pairs', () => {
    // /usr/bin/python3 -c "print(sum(1 + round((n - 1) * (1 - float(f'{k * 0.05:.2f}'))) for n in range(2, 1025) for k in range(1, 20)))"
    const pythonTotal = 4_995_335;
    let total = 0;
    let differFromHalfUp = 0;
    for (let n = 2; n <= 1024; n++) {
      for (let k = 1; k <= 19; k++) {
        const ratio = Number((k * 0.05).toFixed(2)); // the value the store snaps a slider to
        const kept = fastvKeepCount(n, ratio);
        total += kept;
        if (kept !== 1 + Math.round((n - 1) * (1 - ratio))) differFromHalfUp++;
      }
    }
    expect(total).toBe(pythonTotal);
    expect(differFromHalfUp).toBe(722);
  });
});

describe('FastV scores', () => {
  // Two heads, three tokens of a causal model: A[h][i][j], zero above the diagonal.
  const causal = Float32Array.from([
    1, 0, 0, /**/ 0.5, 0.5, 0, /**/ 0.2, 0.3, 0.5,
    1, 0, 0, /**/ 0.9, 0.1, 0, /**/ 0.6, 0.2, 0.2,
  ]);

  it('by the last query row, or by the mean over all queries as the paper writes', () => {
    const last = fastvScores(causal, 2, 3, 'last', 0, 1);
    expect(last[0]).toBeCloseTo((0.2 + 0.6) / 2);
    expect(last[1]).toBeCloseTo((0.3 + 0.2) / 2);
    const all = fastvScores(causal, 2, 3, 'all', 0, 1);
    expect(all[0]).toBeCloseTo(((1 + 0.5 + 0.2) / 3 + (1 + 0.9 + 0.6) / 3) / 2);
    expect(all[1]).toBeCloseTo(((0.5 + 0.3) / 3 + (0.1 + 0.2) / 3) / 2);
    expect(last[2]).toBeGreaterThan(1e30);
  });

  it('with a bidirectional mask, all queries include the earlier ones that attend to a later token', () => {
    // One head, three tokens of a ViT: every query sees every key. φ_j = (1/3) Σ_i A[i][j].
    const vit = Float32Array.from([0.6, 0.3, 0.1, /**/ 0.2, 0.5, 0.3, /**/ 0.1, 0.2, 0.7]);
    const all = fastvScores(vit, 1, 3, 'all', 3, 1);
    expect(all[0]).toBeCloseTo((0.6 + 0.2 + 0.1) / 3);
    expect(all[1]).toBeCloseTo((0.3 + 0.5 + 0.2) / 3);
    // A VLM: two image tokens (the prefix), then a two-token question, both protected.
    const vlm = Float32Array.from([
      0.7, 0.3, 0, 0, /**/ 0.4, 0.6, 0, 0, /**/ 0.3, 0.3, 0.4, 0, /**/ 0.1, 0.2, 0.3, 0.4,
    ]);
    const image = fastvScores(vlm, 1, 4, 'all', 2, 2);
    expect(image[0]).toBeCloseTo((0.7 + 0.4 + 0.3 + 0.1) / 4);
    expect(image[1]).toBeCloseTo((0.3 + 0.6 + 0.3 + 0.2) / 4);
    expect(Array.from(image.slice(2)).every((score) => score > 1e30)).toBe(true);
  });

  it('counts one multiply-add per attention weight the mask lets it read', () => {
    const readsOverMask = (tokens: number, prefix: number, tail: number): number => {
      let reads = 0;
      for (let j = 0; j < tokens - tail; j++) for (let i = 0; i < tokens; i++) if (j <= i || j < prefix) reads++;
      return reads;
    };
    for (const { tokens, prefix, tail } of [
      { tokens: 40, prefix: 0, tail: 1 }, // GPT-2
      { tokens: 65, prefix: 65, tail: 1 }, // ViT with CLS last
      { tokens: 70, prefix: 64, tail: 6 }, // VLM: 64 image tokens, 6-token question
      { tokens: 22, prefix: 16, tail: 6 }, // the same VLM after pruning
    ]) {
      expect(fastvScorer(tokens, config, 'all', tail, prefix).macs).toBe(2 * readsOverMask(tokens, prefix, tail));
      expect(fastvScorer(tokens, config, 'last', tail, prefix).macs).toBe(2 * (tokens - tail));
    }
  });
});

describe('FastV plan', () => {
  it('plans one reduction at the input of layer K scored by layer K−1, nothing for R = 0, and says when K is past the last layer', () => {
    const [reduction, ...more] = fastv.planReductions!({ config, inputTokens: 40, protectedTail: 1 }, { layer: 2, ratio: 0.5, queries: 'last' });
    expect(more).toEqual([]);
    expect(reduction!.layer).toBe(2);
    expect(reduction!.point).toBe('input');
    expect(reduction!.input).toEqual({ kind: 'attention-probs', layer: 1 });
    expect(reduction!.scorer(40, config, 1, 0).macs).toBe(2 * 39);
    expect(fastv.planReductions!({ config, inputTokens: 40, protectedTail: 1 }, { layer: 2, ratio: 0, queries: 'last' })).toEqual([]);
    expect(() => fastv.planReductions!({ config, inputTokens: 40, protectedTail: 1 }, { layer: 4, ratio: 0.5, queries: 'last' })).toThrow(/has 4 layers \(0–3\): choose K from 1 to 3/);
  });

  it('gives the engine the scored layer\'s mask and protected tail', () => {
    const vlm = parseModelConfig({
      model_type: 'shapes-vqa', n_layer: 4, n_head: 4, n_embd: 128, n_inner: 512, image_size: 64, patch_size: 8, num_channels: 3,
      num_image_tokens: 64, max_text_tokens: 8, vocab_size: 37, attention: 'prefix-lm',
    });
    const active = [{ id: 'fastv', params: { layer: 2, ratio: 0.75, queries: 'all' } }];
    const [step] = buildPlan(vlm, 64 + 6, active).reductions;
    expect(step).toMatchObject({ tokensBefore: 70, keep: 6 + 16, protectedTail: 6, bidirectionalPrefix: 64 });
    expect(buildPlan(config, 40, active).reductions[0]).toMatchObject({ protectedTail: 1, bidirectionalPrefix: 0 });
  });
});
