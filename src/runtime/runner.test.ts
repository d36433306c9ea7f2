import { parseModelConfig } from '../models/config';
import { describe, expect, it } from 'vitest';
import { countFlops, denseReference } from '../flops/countFlops';
import { buildPlan } from '../techniques/buildPlan';
import { compareWithDense, flopsPanelData } from './runner';

describe('comparing the current prediction with the dense reference', () => {
  it('averages Monte-Carlo samples, reports their spread, KL(dense‖current) and top-1 agreement', () => {
    const dense = Float32Array.from([0.5, 0.3, 0.2]);
    const samples = Float32Array.from([0.6, 0.2, 0.2, /**/ 0.2, 0.6, 0.2]);
    const { predictions, klDenseToCurrent, top1Agrees } = compareWithDense(dense, samples, 3, String);
    expect(predictions.map((p) => p.tokenId)).toEqual([0, 1, 2]); // means 0.4, 0.4, 0.2: tie → lower id first
    expect(predictions[0]!.currentProb).toBeCloseTo(0.4);
    expect(predictions[0]!.currentStd).toBeCloseTo(0.2);
    expect(predictions[2]!.currentStd).toBeCloseTo(0);
    expect(klDenseToCurrent).toBeCloseTo(0.5 * Math.log(0.5 / 0.4) + 0.3 * Math.log(0.3 / 0.4), 6);
    expect(top1Agrees).toBe(true);
  });

  it('is zero KL and agreeing for identical distributions', () => {
    const p = Float32Array.from([0.1, 0.7, 0.2]);
    const { klDenseToCurrent, top1Agrees } = compareWithDense(p, p, 3, String);
    expect(klDenseToCurrent).toBeCloseTo(0, 9);
    expect(top1Agrees).toBe(true);
  });
});

describe('the FLOPs panel data', () => {
  const config = parseModelConfig({ n_layer: 2, n_head: 2, n_embd: 8, n_positions: 64, vocab_size: 10, layer_norm_epsilon: 1e-5 });

  it('shows a layer per bar plus the LM head, dense equal to current with nothing switched on', () => {
    const plan = buildPlan(config, 40, []);
    const data = flopsPanelData(countFlops(plan), denseReference(plan));
    expect(data.layers.map((l) => l.label)).toEqual(['L0', 'L1', 'LM head']);
    expect(data.layers[0]!.current).toEqual(data.layers[0]!.dense);
    expect(data.layers[0]!.current.qkv).toBe(2 * 40 * 8 * 24);
  });

  it('shows fewer attention FLOPs under a sliding window and the MC passes under dropout', () => {
    const sliding = buildPlan(config, 64, [{ id: 'sliding-window', params: { sinkTokens: 0, windowTokens: 1, fromLayer: 0 } }]);
    const slidingData = flopsPanelData(countFlops(sliding), denseReference(sliding));
    expect(slidingData.layers[1]!.current.attnScores!).toBeLessThan(slidingData.layers[1]!.dense.attnScores!);
    const mc = buildPlan(config, 40, [{ id: 'attention-dropout', params: { rate: 0.1, seed: 1, samples: 4 } }]);
    const mcData = flopsPanelData(countFlops(mc), denseReference(mc));
    expect(mcData.layers[0]!.current.mlpUp).toBe(4 * mcData.layers[0]!.dense.mlpUp!);
    expect(mcData.convention).toMatch(/4 Monte-Carlo passes/);
  });
});
