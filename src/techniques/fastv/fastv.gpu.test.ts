import { beforeAll, describe, expect, it } from 'vitest';
import { cpuForward } from '../../engine/cpu/cpuForward';
import { selectKeep } from '../../engine/cpu/kernels';
import { GpuContext } from '../../engine/gpuContext';
import { relativeError, runKernels } from '../../engine/kernelHarness';
import { nodeDevice } from '../../engine/nodeDevice';
import { vitEvalItems, vqaEvalItems, type ImageEvalItem } from '../../eval/imageHarness';
import { readBundledModel } from '../../models/bundledModel.testutil';
import type { TransformerConfig } from '../../models/config';
import { pixelValues } from '../../models/image';
import type { TransformerWeights } from '../../models/modelWeights';
import { buildPlan } from '../buildPlan';

/**
 * FastV's "all queries" score on the bundled image models, whose attention is not causal: a ViT's is bidirectional,
 * a VLM's image tokens see each other. The expected scores are a brute force over the mask written here from the
 * model's attention type alone: φ_j = mean_h (1/n) Σ_{i sees j} A[h, i, j].
 */
const ITEMS_PER_MODEL = 2;
const RATIO = 0.75;

let context: GpuContext;
beforeAll(async () => {
  context = new GpuContext(await nodeDevice());
});

interface BundledModel {
  config: TransformerConfig;
  weights: TransformerWeights;
  items: ImageEvalItem[];
}

function loadBundled(name: string, parseItems: (json: unknown) => ImageEvalItem[]): BundledModel {
  const { config, weights, readJson } = readBundledModel(name);
  return { config, weights, items: parseItems(readJson('eval.json')).slice(0, ITEMS_PER_MODEL) };
}

/** Query i sees key j: causal, plus every key of the image for a ViT (all of its tokens) or a VLM (its image tokens). */
function seesKey(config: TransformerConfig, tokens: number, query: number, key: number): boolean {
  const imagePrefix = config.attention === 'bidirectional' ? tokens : config.attention === 'prefix-lm' ? config.imageTokens : 0;
  return key <= query || key < imagePrefix;
}

function bruteForceScores(probs: Float32Array, config: TransformerConfig, tokens: number, scored: number): { scores: Float64Array; reads: number } {
  const heads = config.n_head;
  const scores = new Float64Array(scored);
  let reads = 0;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < tokens; i++) {
      for (let j = 0; j < scored; j++) {
        if (!seesKey(config, tokens, i, j)) continue;
        scores[j]! += probs[h * tokens * tokens + i * tokens + j]! / tokens / heads;
        reads++;
      }
    }
  }
  return { scores, reads };
}

/** The positions a score vector keeps, ties to the lower index like select_keep.wgsl. */
function keptPositions(scores: ArrayLike<number>, keep: number): number[] {
  const mask = selectKeep(Float32Array.from(scores), keep);
  return Array.from(mask.keys()).filter((i) => mask[i] === 1);
}

describe.each([
  { name: 'shapes-vit', parseItems: vitEvalItems, protectedTail: (_: ImageEvalItem) => 1 },
  { name: 'shapes-vqa', parseItems: vqaEvalItems, protectedTail: (item: ImageEvalItem) => item.ids.length },
])('FastV all-queries scores on the bundled $name equal a brute force over its mask', ({ name, parseItems, protectedTail }) => {
  let model: BundledModel;
  beforeAll(() => {
    model = loadBundled(name, parseItems);
  });

  it.each([1, 2])('K = %i, R = 0.75: CPU twin, WGSL kernel, MAC count and kept tokens', async (layer) => {
    const { config, weights, items } = model;
    for (const item of items) {
      const tokens = config.imageTokens + item.ids.length;
      const plan = buildPlan(config, tokens, [{ id: 'fastv', params: { layer, ratio: RATIO, queries: 'all' } }]);
      const step = plan.reductions[0]!;
      const tail = protectedTail(item);
      expect(step.protectedTail).toBe(tail);
      const scored = tokens - tail;
      const probs = cpuForward(config, weights, plan, item.ids, 0, pixelValues(item.image, config.image!)).probs[step.input.layer]!;

      // The probabilities really were computed under the mask summed over below: zero wherever it hides a key.
      let hiddenMass = 0;
      for (let h = 0; h < config.n_head; h++) {
        for (let i = 0; i < tokens; i++) for (let j = 0; j < tokens; j++) if (!seesKey(config, tokens, i, j)) hiddenMass += probs[h * tokens * tokens + i * tokens + j]!;
      }
      expect(hiddenMass).toBe(0);

      const expected = bruteForceScores(probs, config, tokens, scored);
      const twin = step.scorer.reference(probs, config.n_head, tokens, step.bidirectionalPrefix, step.protectedTail);
      const gpu = (
        await runKernels(context, (k, frame) => {
          const scores = frame.storage(tokens * 4, 'scores');
          k.scoreTokens({
            source: step.scorer.source, constants: step.scorer.constants, probs: frame.storageWith(probs, 'probs'), scores,
            heads: config.n_head, tokens, protectedTail: step.protectedTail, bidirectionalPrefix: step.bidirectionalPrefix, macs: step.scorer.macs,
          });
          return { scores: { buffer: scores, length: tokens } };
        })
      )['scores']!;

      expect(relativeError(twin.subarray(0, scored), expected.scores), 'CPU twin').toBeLessThanOrEqual(1e-6);
      expect(relativeError(gpu.subarray(0, scored), expected.scores), 'WGSL kernel').toBeLessThanOrEqual(1e-5);
      expect(Array.from(gpu.subarray(scored)).every((score) => score > 1e30)).toBe(true);
      expect(step.scorer.macs).toBe(expected.reads);

      const keptImage = step.keep - tail;
      const bruteKept = keptPositions(expected.scores, keptImage);
      expect(keptPositions(twin.subarray(0, scored), keptImage)).toEqual(bruteKept);
      expect(keptPositions(gpu.subarray(0, scored), keptImage)).toEqual(bruteKept);
    }
  });
});
