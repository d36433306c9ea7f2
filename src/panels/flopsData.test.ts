import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countFlops, denseReference } from '../flops/countFlops';
import { parseModelConfig } from '../models/config';
import { buildPlan } from '../techniques/buildPlan';
import { flopsPanelData } from './flopsData';

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

  it('names the head of a classifier and shows the patch embedding as its own bar', () => {
    const readJson = (file: string): unknown => JSON.parse(readFileSync(new URL(`../../public/models/shapes-vit/${file}`, import.meta.url), 'utf8'));
    const vit = parseModelConfig(readJson('config.json'), readJson('preprocessor_config.json'));
    const plan = buildPlan(vit, vit.imageTokens, []);
    const data = flopsPanelData(countFlops(plan), denseReference(plan), 'classifier');
    expect(data.layers.map((l) => l.label)).toEqual(['patches', 'L0', 'L1', 'L2', 'L3', 'classifier']);
  });
});
