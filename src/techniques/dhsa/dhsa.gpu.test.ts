/**
 * DHSA's WGSL estimator against its CPU twin, through the engine: what the GPU chose (result.plan's selections)
 * equals what cpuForward's twin chose, bit for bit, the logits agree within 1e-4, and the dispatched MACs are the
 * FLOP count of what ran. On a random GPT-2 (random qkv), on recall-lm with a needle prompt, and on the image models.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatchesCpuForward } from '../../engine/cpuParity.testutil';
import { GpuContext } from '../../engine/gpuContext';
import { randomGpt2Weights } from '../../engine/kernelHarness';
import { nodeDevice } from '../../engine/nodeDevice';
import { TransformerEngine } from '../../engine/transformerEngine';
import { vitEvalItems, vqaEvalItems, type ImageEvalItem } from '../../eval/imageHarness';
import type { LmEvalItem } from '../../eval/lmHarness';
import { countFlops } from '../../flops/countFlops';
import { readBundledModel } from '../../models/bundledModel.testutil';
import { parseModelConfig, type TransformerConfig } from '../../models/config';
import { pixelValues } from '../../models/image';
import type { TransformerWeights } from '../../models/modelWeights';
import { createTokenizer } from '../../models/tokenizer';
import { buildPlan } from '../buildPlan';

let context: GpuContext;
beforeAll(async () => {
  context = new GpuContext(await nodeDevice());
});

async function expectGpuMatchesTwin(config: TransformerConfig, weights: TransformerWeights, ids: number[], params: Record<string, number>, pixels?: Float32Array) {
  const engine = new TransformerEngine(context, config, weights);
  try {
    const tokens = ids.length + (pixels ? config.imageTokens : 0);
    const plan = buildPlan(config, tokens, [{ id: 'dhsa', params: { budget: 128, localTokens: 32, globalTokens: 16, chunkMultiplier: 4, ...params } }], { logitsRows: 'all' });
    expect(plan.layers.every((layer) => layer.estimator?.technique === 'dhsa')).toBe(true);
    const result = await engine.forward(plan, ids, pixels ? { pixels } : {});
    expectMatchesCpuForward(result, plan, { config, weights, ids, pixels });
    const ran = countFlops(result.plan);
    expect(result.dispatchedMacs).toBe(ran.total.macs);
    return { plan, result, ran, planned: countFlops(plan) };
  } finally {
    engine.destroy();
  }
}

describe('DHSA on the GPU equals its CPU twin', () => {
  it('on a random GPT-2 (T = 203, not a multiple of 32), and it really skips keys', async () => {
    const config = parseModelConfig({ n_layer: 2, n_head: 2, n_embd: 32, n_positions: 256, vocab_size: 29, layer_norm_epsilon: 1e-5 });
    const ids = Array.from({ length: 203 }, (_, i) => (i * 7 + 3) % 29);
    const { ran, planned } = await expectGpuMatchesTwin(config, randomGpt2Weights(config, 7), ids, { budget: 64, localTokens: 16, globalTokens: 8 });
    ran.layers.forEach((layer, l) => expect(layer.usefulPairs, `layer ${l}`).toBeLessThan(planned.layers[l]!.usefulPairs));
  });

  it('on recall-lm with a needle prompt', async () => {
    const { config, weights, readJson } = readBundledModel('recall-lm');
    const tokenizer = createTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'), config.vocab_size);
    const item = (readJson('eval.json') as { items: LmEvalItem[] }).items.find((i) => i.task.startsWith('needle') && i.length === 256)!;
    const ids = tokenizer.encode(item.prompt);
    expect(ids.length).toBeGreaterThan(200);
    const { ran, planned } = await expectGpuMatchesTwin(config, weights, ids, {});
    expect(ran.layers[1]!.usefulPairs).toBeLessThan(planned.layers[1]!.usefulPairs);
  });

  it.each([
    { name: 'shapes-vit', parseItems: vitEvalItems },
    { name: 'shapes-vqa', parseItems: vqaEvalItems },
  ])('on $name', async ({ name, parseItems }) => {
    const { config, weights, readJson } = readBundledModel(name);
    const item: ImageEvalItem = parseItems(readJson('eval.json'))[0]!;
    const { ran, planned } = await expectGpuMatchesTwin(config, weights, item.ids, { budget: 32, localTokens: 8, globalTokens: 4 }, pixelValues(item.image, config.image!));
    ran.layers.forEach((layer, l) => expect(layer.usefulPairs, `layer ${l}`).toBeLessThan(planned.layers[l]!.usefulPairs));
  });
});
