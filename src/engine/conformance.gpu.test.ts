/**
 * Registry-driven conformance: every registered technique, with its default parameters, on every architecture the
 * engine runs. A technique is tested here the moment it is registered: its GPU forward must equal the CPU forward
 * driven by the same plan, and the work the engine dispatched must equal the work the FLOP counter planned.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { countFlops } from '../flops/countFlops';
import { parseModelConfig, type TransformerConfig } from '../models/config';
import type { TransformerWeights } from '../models/modelWeights';
import { buildPlan } from '../techniques/buildPlan';
import { techniques } from '../techniques/registry';
import { defaultParams, type ActiveTechnique } from '../techniques/types';
import { cpuForward } from './cpu/cpuForward';
import { GpuContext } from './gpuContext';
import { randomGpt2Weights, randomImageModelWeights, relativeError, seededFloats } from './kernelHarness';
import { nodeDevice } from './nodeDevice';
import type { ExecutionPlan } from './plan';
import { TransformerEngine } from './transformerEngine';

interface Architecture {
  name: string;
  config: TransformerConfig;
  weights: TransformerWeights;
  ids: number[];
  pixels?: Float32Array;
}

// Three layers, so that a technique defaulting to layer 1 or 2 has layers before and after it; 40 text tokens span
// three attention blocks, one of them partial.
const gpt2 = parseModelConfig({ n_layer: 3, n_head: 2, n_embd: 16, n_positions: 64, vocab_size: 23, layer_norm_epsilon: 1e-5 });
const vit = parseModelConfig({
  model_type: 'vit', hidden_size: 16, num_hidden_layers: 3, num_attention_heads: 2, intermediate_size: 48, image_size: 24,
  patch_size: 4, num_channels: 3, hidden_act: 'gelu', id2label: { 0: 'a', 1: 'b', 2: 'c' },
});
const vlm = parseModelConfig({
  model_type: 'shapes-vqa', n_layer: 3, n_head: 2, n_embd: 16, n_inner: 48, image_size: 24, patch_size: 4, num_channels: 3,
  num_image_tokens: 36, max_text_tokens: 8, vocab_size: 11, attention: 'prefix-lm',
});
const architectures: Architecture[] = [
  { name: 'GPT-2', config: gpt2, weights: randomGpt2Weights(gpt2, 42), ids: Array.from({ length: 40 }, (_, i) => (i * 5 + 3) % 23) },
  { name: 'ViT', config: vit, weights: randomImageModelWeights(vit, 7), ids: [], pixels: seededFloats(3 * 24 * 24, 5) },
  { name: 'VLM', config: vlm, weights: randomImageModelWeights(vlm, 9), ids: [3, 7, 1, 9, 2, 4], pixels: seededFloats(3 * 24 * 24, 6) },
];

const cases: { name: string; active: ActiveTechnique[] }[] = [
  { name: 'dense', active: [] },
  ...techniques.map((t) => ({ name: `${t.id} (defaults)`, active: [{ id: t.id, params: defaultParams(t) }] })),
  { name: 'every technique at once (defaults)', active: techniques.map((t) => ({ id: t.id, params: defaultParams(t) })) },
];

let context: GpuContext;
beforeAll(async () => {
  context = new GpuContext(await nodeDevice());
});

describe.each(architectures)('$name: every registered technique', (architecture) => {
  const { config, weights, ids, pixels } = architecture;
  const tokens = config.imageTokens + ids.length;
  let engine: TransformerEngine;
  beforeAll(() => {
    engine = new TransformerEngine(context, config, weights);
    return () => engine.destroy();
  });

  it.each(cases)('$name: GPU equals the CPU forward, and dispatched work equals the FLOP count', async ({ active }) => {
    const everyLayer = Array.from({ length: config.n_layer }, (_, l) => l);
    const plan = buildPlan(config, tokens, active, { logitsRows: 'all', captureLayers: everyLayer });
    const result = await engine.forward(plan, ids, { readAttention: everyLayer, pixels });
    expectCpuParity(plan, result, architecture);
    expect(result.dispatchedMacs).toBe(countFlops(plan).total.macs);
  });
});

function expectCpuParity(plan: ExecutionPlan, result: Awaited<ReturnType<TransformerEngine['forward']>>, { config, weights, ids, pixels }: Architecture): void {
  const samples = plan.dropout?.samples ?? 1;
  const references = Array.from({ length: samples }, (_, s) => cpuForward(config, weights, plan, ids, s, pixels));
  const meanLogits = references[0]!.logits.map((_, i) => references.reduce((sum, r) => sum + r.logits[i]!, 0) / samples);
  expect(relativeError(result.logits, meanLogits)).toBeLessThanOrEqual(1e-4);
  expect(result.layerPositions.map((p) => Array.from(p))).toEqual(references[0]!.layerPositions.map((p) => Array.from(p)));
  expect(result.attention.map((capture) => capture.layer)).toEqual(plan.layers.map((layer) => layer.index));
  for (const capture of result.attention) {
    expect(relativeError(capture.probs, references[0]!.probs[capture.layer]!), `layer ${capture.layer}`).toBeLessThanOrEqual(1e-4);
  }
}
