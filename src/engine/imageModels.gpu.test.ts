import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelConfig, type TransformerConfig } from '../models/config';
import { buildPlan } from '../techniques/buildPlan';
import type { ActiveTechnique } from '../techniques/types';
import { expectMatchesCpuForward } from './cpuParity.testutil';
import { GpuContext } from './gpuContext';
import { randomImageModelWeights, seededFloats } from './kernelHarness';
import { nodeDevice } from './nodeDevice';
import { TransformerEngine } from './transformerEngine';

// Small shapes no model file has: a 4×4 patch grid of 4-pixel patches, 3 layers, MLP 3× wide (not GPT-2's 4×).
const vit = parseModelConfig({
  model_type: 'vit', hidden_size: 16, num_hidden_layers: 3, num_attention_heads: 2, intermediate_size: 48, image_size: 16,
  patch_size: 4, num_channels: 3, hidden_act: 'gelu', id2label: { 0: 'a', 1: 'b', 2: 'c', 3: 'd' },
});
const vlm = parseModelConfig({
  model_type: 'shapes-vqa', n_layer: 3, n_head: 2, n_embd: 16, n_inner: 48, image_size: 16, patch_size: 4, num_channels: 3,
  num_image_tokens: 16, max_text_tokens: 6, vocab_size: 11, attention: 'prefix-lm',
});
const pixels = seededFloats(3 * 16 * 16, 5, 1);
const question = [3, 7, 1, 9, 2];

const fastv = (layer: number, queries: 'last' | 'all'): ActiveTechnique => ({ id: 'fastv', params: { layer, ratio: 0.5, queries } });
const sliding: ActiveTechnique = { id: 'sliding-window', params: { sinkTokens: 4, windowTokens: 16, fromLayer: 1 } };
const dropout: ActiveTechnique = { id: 'attention-dropout', params: { rate: 0.2, seed: 3, samples: 2 } };

let context: GpuContext;
beforeAll(async () => {
  context = new GpuContext(await nodeDevice());
});

describe.each([
  { name: 'ViT', config: vit, ids: [] as number[] },
  { name: 'VLM', config: vlm, ids: question },
])('the $name forward pass matches the CPU reference', ({ config, ids }: { config: TransformerConfig; ids: number[] }) => {
  const weights = randomImageModelWeights(config, 11);
  let engine: TransformerEngine;
  beforeAll(() => {
    engine = new TransformerEngine(context, config, weights);
    return () => engine.destroy();
  });

  it.each([
    { name: 'dense', active: [] },
    { name: 'FastV at layer 1, last query', active: [fastv(1, 'last')] },
    { name: 'FastV at layer 2, all queries, with a sliding window', active: [fastv(2, 'all'), sliding] },
    { name: 'attention dropout, 2 samples', active: [dropout] },
  ])('$name', async ({ active }) => {
    const plan = buildPlan(config, config.imageTokens + ids.length, active, { logitsRows: 'all', captureLayers: [0, 2] });
    const result = await engine.forward(plan, ids, { pixels, readAttention: [0, 2] });
    expectMatchesCpuForward(result, plan, { config, weights, ids, pixels });
  });
});

describe('visual-token pruning on the VLM', () => {
  it('FastV prunes only image tokens: the question survives whole and the prefix shrinks with the image', async () => {
    const plan = buildPlan(vlm, 16 + question.length, [fastv(1, 'last')]);
    expect(plan.layers.map((l) => [l.tokens, l.bidirectionalPrefix])).toEqual([[21, 16], [13, 8], [13, 8]]);
    const engine = new TransformerEngine(context, vlm, randomImageModelWeights(vlm, 11));
    try {
      const survivors = Array.from((await engine.forward(plan, question, { pixels })).layerPositions[1]!);
      expect(survivors.slice(-question.length)).toEqual([16, 17, 18, 19, 20]);
      expect(survivors.slice(0, 8).every((p) => p < 16)).toBe(true);
    } finally {
      engine.destroy();
    }
  });

  it('on a ViT FastV keeps the CLS token, which the engine holds in the last row', () => {
    const plan = buildPlan(vit, 17, [fastv(1, 'last')]);
    expect(plan.layers.map((l) => [l.tokens, l.bidirectionalPrefix])).toEqual([[17, 17], [9, 9], [9, 9]]);
  });
});

describe('image models reject bad input with a clear message', () => {
  let engine: TransformerEngine;
  beforeAll(() => {
    engine = new TransformerEngine(context, vlm, randomImageModelWeights(vlm, 2));
  });
  afterAll(() => engine.destroy());

  it('a missing or wrongly sized image, a question over the text limit', async () => {
    const plan = buildPlan(vlm, 16 + question.length, []);
    await expect(engine.forward(plan, question)).rejects.toThrow('this model needs an image');
    await expect(engine.forward(plan, question, { pixels: pixels.subarray(1) })).rejects.toThrow(/expected 3×16×16/);
    expect(() => buildPlan(vlm, 16 + 7, [])).toThrow(/at most 22/);
    expect(() => buildPlan(vit, 18, [])).toThrow(/at most 17/);
  });
});

it('parses the bundled image models\' configs', () => {
  const read = (name: string, file = 'config.json') => JSON.parse(readFileSync(`public/models/${name}/${file}`, 'utf8'));
  const shapesVit = parseModelConfig(read('shapes-vit'), read('shapes-vit', 'preprocessor_config.json'));
  expect(shapesVit).toMatchObject({ attention: 'bidirectional', imageTokens: 65, n_inner: 512, activation: 'gelu-erf', labels: ['one', 'two', 'three'] });
  expect(parseModelConfig(read('shapes-vqa'))).toMatchObject({ attention: 'prefix-lm', imageTokens: 64, n_positions: 72, activation: 'gelu-tanh' });
});
