import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../models/config';
import { buildPlan, withDiagonal } from './buildPlan';
import { defaultParams } from './types';
import { techniques } from './registry';

const config = parseModelConfig({ n_layer: 4, n_head: 2, n_embd: 8, n_positions: 256, vocab_size: 10, layer_norm_epsilon: 1e-5 });

describe('buildPlan composes techniques into one execution plan', () => {
  it('is dense causal with nothing switched on', () => {
    const plan = buildPlan(config, 40, []);
    expect(plan.layers.map((l) => l.tokens)).toEqual([40, 40, 40, 40]);
    expect(plan.layers[0]!.keyBlocks[1]![2]).toEqual([0, 1, 2]);
    expect(plan.pruning).toEqual([]);
    expect(plan.dropout).toBeNull();
  });

  it('captures the layers a panel shows and the layers a prune step scores from', () => {
    const plan = buildPlan(config, 40, [{ id: 'fastv', params: { layer: 3, ratio: 0.5, queries: 'last' } }], { captureLayers: [0] });
    expect(plan.layers.map((l) => l.captureAttention)).toEqual([true, false, true, false]);
    expect(plan.layers.map((l) => l.tokens)).toEqual([40, 40, 40, 21]);
  });

  it('always keeps the diagonal block, even if a technique drops it', () => {
    expect(withDiagonal([[[], [0], [1]]])).toEqual([[[0], [0, 1], [1, 2]]]);
    const plan = buildPlan(config, 40, [{ id: 'sliding-window', params: { sinkTokens: 0, windowTokens: 1, fromLayer: 0 } }]);
    expect(plan.layers[0]!.keyBlocks[0]).toEqual([[0], [1], [2]]);
  });

  it('refuses two token windows on one layer: two A-shapes do not intersect into one', () => {
    const window = (sinkTokens: number, windowTokens: number, fromLayer: number) => ({ id: 'sliding-window', params: { sinkTokens, windowTokens, fromLayer, granularity: 'token' } });
    expect(() => buildPlan(config, 40, [window(4, 16, 0), window(0, 8, 2)])).toThrow(/sliding-window and sliding-window both mask layer 2 to a token window/);
    // A block-granular window sets no token window, so it composes with a token-exact one by narrowing the tiles.
    const blockWise = { ...window(0, 8, 0), params: { ...window(0, 8, 0).params, granularity: 'block' } };
    expect(buildPlan(config, 40, [window(4, 16, 0), blockWise]).layers[0]!.tokenWindow).toEqual({ sinks: 4, window: 16 });
  });

  it('names an unknown technique', () => {
    expect(() => buildPlan(config, 40, [{ id: 'no-such-method', params: {} }])).toThrow(/unknown technique "no-such-method"/);
  });

  it('merges dropout plans and rejects empty or too-long inputs', () => {
    const plan = buildPlan(config, 5, [{ id: 'attention-dropout', params: { rate: 0.3, seed: 7, samples: 4 } }]);
    expect(plan.dropout).toEqual({ seed: 7, samples: 4, rates: { embedding: 0, attention: 0.3, residual: 0 } });
    expect(() => buildPlan(config, 0, [])).toThrow(/empty/);
    expect(() => buildPlan(config, 257, [])).toThrow(/at most 256/);
  });

  it('every registered technique plans with its default parameters', () => {
    for (const technique of techniques) {
      expect(() => buildPlan(config, 64, [{ id: technique.id, params: defaultParams(technique) }])).not.toThrow();
    }
  });
});
