import { describe, expect, test } from 'vitest';
import { parseModelConfig } from '../models/config';
import { buildPlan } from '../techniques/buildPlan';
import { keptAttentionMass } from './keptMass';

const config = parseModelConfig({ n_layer: 1, n_head: 1, n_embd: 8, n_positions: 64, vocab_size: 5, layer_norm_epsilon: 1e-5 });

/** Uniform causal attention over n tokens: row i gives each of its i + 1 keys 1 / (i + 1). */
function uniformCausal(n: number): Float32Array {
  const probs = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) probs[i * n + j] = 1 / (i + 1);
  return probs;
}

describe('keptAttentionMass', () => {
  test('dense attention keeps all of it', () => {
    expect(keptAttentionMass(config, buildPlan(config, 40, []).layers[0]!, uniformCausal(40))).toBeCloseTo(1, 6);
  });

  test('a window of w keeps min(i + 1, w) / (i + 1) of each uniform row', () => {
    const layer = buildPlan(config, 40, [{ id: 'sliding-window', params: { sinkTokens: 0, windowTokens: 8, fromLayer: 0, granularity: 'token' } }]).layers[0]!;
    const expected = Array.from({ length: 40 }, (_, i) => Math.min(i + 1, 8) / (i + 1)).reduce((a, b) => a + b) / 40;
    expect(keptAttentionMass(config, layer, uniformCausal(40))).toBeCloseTo(expected, 6);
  });
});
