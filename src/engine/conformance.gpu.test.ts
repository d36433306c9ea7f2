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
import { defaultParams, type ActiveTechnique, type Technique } from '../techniques/types';
import { expectMatchesCpuForward } from './cpuParity.testutil';
import { GpuContext } from './gpuContext';
import { randomGpt2Weights, randomImageModelWeights, seededFloats } from './kernelHarness';
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
    expectMatchesCpuForward(result, plan, architecture);
    expect(result.attention.map((capture) => capture.layer)).toEqual(everyLayer);
    // The plan as it ran: with an estimator, its tiles are known only after the forward.
    expect(result.dispatchedMacs).toBe(countFlops(result.plan).total.macs);
  });
});

/**
 * Plan features the labs will use before any registered technique does: each is written into a plan by hand here,
 * on the GPT-2 architecture, and held to the same two checks.
 */
describe('plan data no registered technique uses yet', () => {
  const [architecture] = architectures as [Architecture];
  const { config, weights, ids } = architecture;
  let engine: TransformerEngine;
  beforeAll(() => {
    engine = new TransformerEngine(context, config, weights);
    return () => engine.destroy();
  });
  const base = () => buildPlan(config, ids.length, [], { logitsRows: 'all', captureLayers: [0, 1, 2] });

  it('layer-kind dropout skips whole sublayers per sample, and each sample is counted on its own', async () => {
    const plan: ExecutionPlan = {
      ...base(),
      dropout: { seed: 3, samples: 4, sites: [{ site: 'attention-output', kind: 'layer', rate: 0.5 }, { site: 'mlp-output', kind: 'layer', rate: 0.5 }] },
    };
    const result = await engine.forward(plan, ids, { readAttention: [0, 1, 2] });
    expectMatchesCpuForward(result, plan, architecture);
    const report = countFlops(plan);
    expect(result.dispatchedMacs).toBe(report.total.macs);
    expect(new Set(report.sampleMacs).size).toBeGreaterThan(1);
    expect(report.total.macs).toBe(report.sampleMacs.reduce((a, b) => a + b, 0));
  });

  it('an after-attention reduction runs the MLP of its layer on the survivors', async () => {
    const [reduction] = techniques.find((t) => t.id === 'fastv')!.planReductions!(
      { config, inputTokens: ids.length, protectedTail: 1 },
      { layer: 1, ratio: 0.5, queries: 'all' },
    );
    const dense = base();
    const keep = reduction!.keep(ids.length);
    const plan: ExecutionPlan = {
      ...dense,
      layers: dense.layers.map((layer) => (layer.index < 2 ? layer : { ...layer, tokens: keep, keyBlocks: buildPlan(config, keep, []).layers[0]!.keyBlocks })),
      reductions: [
        {
          technique: 'fastv', layer: 1, point: 'after-attention', input: { kind: 'attention-probs', layer: 1 }, kind: 'select',
          tokensBefore: ids.length, keep, bidirectionalPrefix: 0, protectedTail: 1, scorer: reduction!.scorer(ids.length, config, 1, 0),
        },
      ],
    };
    const result = await engine.forward(plan, ids, { readAttention: [0, 1, 2] });
    expectMatchesCpuForward(result, plan, architecture);
    expect(result.layerPositions.map((p) => p.length)).toEqual([40, 40, keep]);
    const report = countFlops(plan);
    expect(result.dispatchedMacs).toBe(report.total.macs);
    expect(report.layers[1]!.macs.mlpUp).toBe(keep * config.n_embd * config.n_inner);
  });
});

describe("the techniques README's worked example, registered for this test", () => {
  const headProbe: Technique = {
    id: 'head-probe', label: 'Head probe', family: 'sparse-attention',
    summary: 'Switches off the last k heads of every layer from `from` on; masked heads are not computed.',
    paper: { title: 'worked example', authors: 'src/techniques/README.md', venue: '', url: 'https://example.org/' },
    spec: 'src/techniques/README.md',
    params: [
      { key: 'heads', label: 'Heads off', kind: 'int', min: 0, max: 16, step: 1, default: 1, help: 'Heads switched off.' },
      { key: 'from', label: 'From layer', kind: 'int', min: 0, max: 47, modelIndex: 'layer', step: 1, default: 1, help: 'First layer masked.' },
    ],
    restrictHeads: (heads, { layer }, params) =>
      layer < Number(params['from']) ? heads : heads.slice(0, Math.max(1, heads.length - Number(params['heads']))),
  };
  beforeAll(() => {
    (techniques as Technique[]).push(headProbe);
    return () => void (techniques as Technique[]).pop();
  });

  it.each(architectures)('$name: masked heads are not dispatched, read as zero and are not counted', async (architecture) => {
    const { config, weights, ids, pixels } = architecture;
    const engine = new TransformerEngine(context, config, weights);
    try {
      const everyLayer = Array.from({ length: config.n_layer }, (_, l) => l);
      const tokens = config.imageTokens + ids.length;
      const plan = buildPlan(config, tokens, [{ id: 'head-probe', params: defaultParams(headProbe) }], { logitsRows: 'all', captureLayers: everyLayer });
      expect(plan.layers.map((layer) => layer.heads)).toEqual([[0, 1], [0], [0]]);
      const result = await engine.forward(plan, ids, { readAttention: everyLayer, pixels });
      expectMatchesCpuForward(result, plan, architecture);
      const masked = result.attention[1]!.probs.subarray(tokens * tokens);
      expect(masked.every((p) => p === 0)).toBe(true);
      const report = countFlops(plan);
      expect(result.dispatchedMacs).toBe(report.total.macs);
      expect(report.layers[1]!.executedPairs).toBe(report.layers[0]!.executedPairs / 2);
    } finally {
      engine.destroy();
    }
  });
});
