import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../models/config';
import { buildPlan, withDiagonal } from './buildPlan';
import { attentionDropout } from './attentionDropout/attentionDropout';
import { fastv } from './fastv/fastv';
import { techniques } from './registry';
import { slidingWindow } from './slidingWindow/slidingWindow';
import { defaultParams, type ActiveTechnique, type Technique } from './types';

const config = parseModelConfig({ n_layer: 4, n_head: 2, n_embd: 8, n_positions: 256, vocab_size: 10, layer_norm_epsilon: 1e-5 });

describe('buildPlan composes techniques into one execution plan', () => {
  it('is dense causal with nothing switched on', () => {
    const plan = buildPlan(config, 40, []);
    expect(plan.layers.map((l) => l.tokens)).toEqual([40, 40, 40, 40]);
    expect(plan.layers[0]!.keyBlocks[1]![2]).toEqual([0, 1, 2]);
    expect(plan.reductions).toEqual([]);
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
    expect(plan.dropout).toEqual({ seed: 7, samples: 4, sites: [{ site: 'attention-probs', kind: 'element', rate: 0.3 }] });
    expect(() => buildPlan(config, 0, [])).toThrow(/empty/);
    expect(() => buildPlan(config, 257, [])).toThrow(/at most 256/);
  });

  it('every registered technique plans with its default parameters', () => {
    for (const technique of techniques) {
      expect(() => buildPlan(config, 64, [{ id: technique.id, params: defaultParams(technique) }])).not.toThrow();
    }
  });
});

describe('plan data that no registered technique uses yet', () => {
  const planOf = (active: ActiveTechnique[]) => buildPlan(config, 40, active);
  const register = (technique: Technique) => {
    (techniques as Technique[]).push(technique);
    return () => (techniques as Technique[]).splice(techniques.indexOf(technique), 1);
  };

  it('an after-attention reduction shrinks the MLP of its layer and the layers after it', () => {
    const unregister = register({
      ...fastv,
      id: 'late-prune',
      planReductions: (context, params) => fastv.planReductions!(context, params).map((r) => ({ ...r, layer: 1, point: 'after-attention', input: { kind: 'attention-probs', layer: 1 } })),
    });
    try {
      const plan = planOf([{ id: 'late-prune', params: { layer: 1, ratio: 0.5, queries: 'last' } }]);
      expect(plan.layers.map((l) => l.tokens)).toEqual([40, 40, 21, 21]);
      expect(plan.reductions.map((r) => [r.layer, r.point, r.tokensBefore, r.keep])).toEqual([[1, 'after-attention', 40, 21]]);
      expect(plan.layers[1]!.captureAttention).toBe(true);
    } finally {
      unregister();
    }
  });

  it('two reductions at one point are refused, naming both techniques', () => {
    const unregister = register({ ...fastv, id: 'fastv-twin' });
    try {
      expect(() => planOf([{ id: 'fastv', params: defaultParams(fastv) }, { id: 'fastv-twin', params: defaultParams(fastv) }])).toThrow(
        /fastv and fastv-twin both reduce tokens at the input of layer 1/,
      );
    } finally {
      unregister();
    }
  });

  it('dropout sites merge by the highest rate; two mask kinds on one site are refused', () => {
    const unregister = [
      register({ ...attentionDropout, id: 'layer-drop', planDropout: () => ({ sites: [{ site: 'mlp-output', kind: 'layer', rate: 0.5 }], seed: 1, samples: 2 }) }),
      register({ ...attentionDropout, id: 'mlp-dropout', planDropout: () => ({ sites: [{ site: 'mlp-output', kind: 'element', rate: 0.1 }], seed: 1, samples: 1 }) }),
      register({ ...attentionDropout, id: 'probs-layer', planDropout: () => ({ sites: [{ site: 'attention-probs', kind: 'layer', rate: 0.1 }], seed: 1, samples: 1 }) }),
    ];
    try {
      const merged = planOf([{ id: 'attention-dropout', params: { rate: 0.2, seed: 5, samples: 3 } }, { id: 'layer-drop', params: {} }]).dropout;
      expect(merged).toEqual({
        seed: 5,
        samples: 3,
        sites: [{ site: 'attention-probs', kind: 'element', rate: 0.2 }, { site: 'mlp-output', kind: 'layer', rate: 0.5 }],
      });
      expect(() => planOf([{ id: 'layer-drop', params: {} }, { id: 'mlp-dropout', params: {} }])).toThrow(/layer-drop and mlp-dropout both drop at mlp-output/);
      expect(() => planOf([{ id: 'probs-layer', params: {} }])).toThrow(/a layer mask at attention-probs, which takes element masks/);
    } finally {
      for (const undo of unregister) undo();
    }
  });

  it('head restrictions narrow in registry order', () => {
    const unregister = register({ ...slidingWindow, id: 'head-probe', restrictKeyBlocks: undefined, restrictHeads: (heads, { layer }) => (layer >= 2 ? heads.slice(0, 1) : heads) });
    try {
      expect(planOf([{ id: 'head-probe', params: defaultParams(slidingWindow) }]).layers.map((l) => l.heads)).toEqual([[0, 1], [0, 1], [0], [0]]);
    } finally {
      unregister();
    }
  });
});
