/**
 * The sliding window on the bundled models, against what it must equal: dense attention when the window covers
 * everything (shapes-vit), and a dense attention under an explicit per-token A-shape mask, stated here from
 * StreamingLLM's definition in each model's own token order, otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cpu from '../../engine/cpu/kernels';
import { argmax } from '../../engine/distributions';
import { GpuContext } from '../../engine/gpuContext';
import { maxAbsDifference, relativeError } from '../../engine/kernelHarness';
import { nodeDevice } from '../../engine/nodeDevice';
import { TransformerEngine } from '../../engine/transformerEngine';
import { countFlops } from '../../flops/countFlops';
import { vitEvalItems, vqaEvalItems, type ImageEvalItem } from '../../eval/imageHarness';
import { readBundledModel } from '../../models/bundledModel.testutil';
import type { TransformerConfig } from '../../models/config';
import { pixelValues } from '../../models/image';
import type { TransformerWeights } from '../../models/modelWeights';
import { createTokenizer } from '../../models/tokenizer';
import { DEFAULT_PROMPT } from '../../state/persistent';
import { buildPlan } from '../buildPlan';
import { defaultParams, type ActiveTechnique } from '../types';
import { aShape, maskedForward } from './maskedReference.testutil';
import { slidingWindow } from './slidingWindow';

interface Bundled {
  config: TransformerConfig;
  weights: TransformerWeights;
  engine: TransformerEngine;
  readJson: (file: string) => unknown;
}

const loaded: Bundled[] = [];

async function load(name: string): Promise<Bundled> {
  const { config, weights, readJson } = readBundledModel(name);
  const model = { config, weights, engine: new TransformerEngine(new GpuContext(await nodeDevice()), config, weights), readJson };
  loaded.push(model);
  return model;
}

afterAll(() => {
  for (const { engine } of loaded) engine.destroy();
});

function window(params: { sinkTokens: number; windowTokens: number }): ActiveTechnique[] {
  return [{ id: slidingWindow.id, params: { ...defaultParams(slidingWindow), ...params } }];
}

/** The engine's input rows, embedded as cpuForward embeds them: image rows (patches, then CLS), then text. */
function embedded({ config, weights }: Bundled, ids: readonly number[], pixels?: Float32Array): Float32Array {
  const x = new Float32Array((config.imageTokens + ids.length) * config.n_embd);
  if (weights.patches && config.image && pixels) {
    const { weight, bias, cls, positions } = weights.patches;
    const geometry = { channels: config.n_embd, patch: config.image.patch, grid: config.image.grid, imageChannels: config.image.channels };
    x.set(cpu.patchEmbed(pixels, weight, bias, cls, positions, geometry));
  }
  if (weights.tokens && ids.length > 0) x.set(cpu.embed(ids, weights.tokens.wte, weights.tokens.wpe, config.n_embd), config.imageTokens * config.n_embd);
  return x;
}

describe('shapes-vit', () => {
  let vit: Bundled;
  let items: ImageEvalItem[];
  beforeAll(async () => {
    vit = await load('shapes-vit');
    items = vitEvalItems(vit.readJson('eval.json')).slice(0, 4);
  });

  it('a window of at least T tokens with no sinks changes nothing: the same pairs and the same logits as dense', async () => {
    const tokens = vit.config.imageTokens;
    for (const windowTokens of [tokens, 1024]) {
      const windowed = buildPlan(vit.config, tokens, window({ sinkTokens: 0, windowTokens }));
      const dense = buildPlan(vit.config, tokens, []);
      const [flops, denseFlops] = [countFlops(windowed), countFlops(dense)];
      expect(flops.usefulPairs).toBe(denseFlops.usefulPairs); // 4 layers · 4 heads · 65² = 67,600
      expect(flops.executedPairs).toBe(denseFlops.executedPairs);
      for (const item of items) {
        const pixels = pixelValues(item.image, vit.config.image!);
        const ours = await vit.engine.forward(windowed, [], { pixels });
        const reference = await vit.engine.forward(dense, [], { pixels });
        expect(maxAbsDifference(ours.logits, reference.logits)).toBeLessThanOrEqual(1e-6);
      }
    }
  });

  it('the token-exact A-shape equals a dense ViT in Hugging Face order (CLS first, the sink) under the explicit mask', async () => {
    const { n_embd: channels } = vit.config;
    const patches = vit.config.imageTokens - 1;
    const plan = buildPlan(vit.config, patches + 1, window({ sinkTokens: 1, windowTokens: 20 }));
    for (const item of items) {
      const pixels = pixelValues(item.image, vit.config.image!);
      const ours = await vit.engine.forward(plan, [], { pixels });
      // The engine keeps CLS as its last row; Hugging Face's ViT has it first. Reorder, then mask by that order.
      const rows = embedded(vit, [], pixels);
      const huggingFaceOrder = new Float32Array(rows.length);
      huggingFaceOrder.set(rows.subarray(patches * channels), 0);
      huggingFaceOrder.set(rows.subarray(0, patches * channels), channels);
      const reference = maskedForward(vit.config, vit.weights, huggingFaceOrder, aShape(1, 20));
      const clsLogits = reference.logits.subarray(0, vit.config.vocab_size);
      expect(relativeError(ours.logits, clsLogits)).toBeLessThanOrEqual(1e-4);
      expect(argmax(ours.logits)).toBe(argmax(clsLogits));
    }
  });
});

describe('shapes-vqa: the image prefix is bidirectional, the question causal', () => {
  it('the token-exact A-shape equals dense attention under the explicit mask', async () => {
    const vlm = await load('shapes-vqa');
    const imageTokens = vlm.config.imageTokens;
    const visible = aShape(4, 16);
    for (const item of vqaEvalItems(vlm.readJson('eval.json')).slice(0, 3)) {
      const pixels = pixelValues(item.image, vlm.config.image!);
      const plan = buildPlan(vlm.config, imageTokens + item.ids.length, window({ sinkTokens: 4, windowTokens: 16 }), { logitsRows: 'all' });
      const ours = await vlm.engine.forward(plan, item.ids, { pixels });
      const reference = maskedForward(vlm.config, vlm.weights, embedded(vlm, item.ids, pixels), (i, j) => (j <= i || j < imageTokens) && visible(i, j));
      expect(relativeError(ours.logits, reference.logits)).toBeLessThanOrEqual(1e-4);
    }
  });
});

describe('recall-lm on the default prompt with the default window (4 sinks, 64 tokens)', () => {
  it('equals dense attention under the explicit causal A-shape mask, logits and attention maps', async () => {
    const lm = await load('recall-lm');
    const tokenizer = createTokenizer(lm.readJson('tokenizer.json'), lm.readJson('tokenizer_config.json'), lm.config.vocab_size);
    const ids = tokenizer.encode(DEFAULT_PROMPT);
    expect(ids.length).toBe(168);
    const layers = Array.from({ length: lm.config.n_layer }, (_, l) => l);
    const plan = buildPlan(lm.config, ids.length, [{ id: slidingWindow.id, params: defaultParams(slidingWindow) }], { logitsRows: 'all', captureLayers: layers });
    const ours = await lm.engine.forward(plan, ids, { readAttention: layers });
    const visible = aShape(4, 64);
    const reference = maskedForward(lm.config, lm.weights, embedded(lm, ids), (i, j) => j <= i && visible(i, j));
    expect(relativeError(ours.logits, reference.logits)).toBeLessThanOrEqual(1e-4);
    for (const capture of ours.attention) expect(relativeError(capture.probs, reference.probs[capture.layer]!)).toBeLessThanOrEqual(1e-4);
    // Each query reads exactly the A-shape: 4 sinks and its last 64 tokens (overlapping for the first 68 queries).
    let pairs = 0;
    for (let i = 0; i < ids.length; i++) for (let j = 0; j <= i; j++) if (visible(i, j)) pairs++;
    expect(countFlops(plan).usefulPairs).toBe(lm.config.n_layer * lm.config.n_head * pairs);
  });
});
