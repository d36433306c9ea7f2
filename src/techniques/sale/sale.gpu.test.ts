/**
 * SALE's WGSL estimator against its CPU twin: identical key-block lists on random qkv (both dot variants), and
 * through the engine on the bundled models, where the GPU forward must equal the CPU forward of the same selection
 * and the dispatched work the FLOP count of what ran.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { countFlops } from '../../flops/countFlops';
import { expectMatchesCpuForward } from '../../engine/cpuParity.testutil';
import { GpuContext } from '../../engine/gpuContext';
import { nodeDevice } from '../../engine/nodeDevice';
import { blockCount, denseKeyBlocks } from '../../engine/plan';
import { TransformerEngine } from '../../engine/transformerEngine';
import { vitEvalItems, vqaEvalItems } from '../../eval/imageHarness';
import { readBundledModel } from '../../models/bundledModel.testutil';
import { pixelValues } from '../../models/image';
import { createTokenizer } from '../../models/tokenizer';
import { buildPlan } from '../buildPlan';
import { randomQkv } from '../goldenInputs.testutil';
import { emulatedDot, gpuSelect } from './saleGpu.testutil';
import { saleSelect, type SaleShape } from './sale';

let context: GpuContext;
beforeAll(async () => {
  context = new GpuContext(await nodeDevice());
});


/** Random qkv whose channel 0 of each head adds a logit growing with the key's position: far keys matter less. */
function recencyQkv(qkv: Float32Array, tokens: number, heads: number, d: number): Float32Array {
  const channels = heads * d;
  for (let t = 0; t < tokens; t++) {
    for (let h = 0; h < heads; h++) {
      qkv[t * 3 * channels + h * d] = 16;
      qkv[t * 3 * channels + channels + h * d] = Math.fround(qkv[t * 3 * channels + channels + h * d]! + Math.fround((3 * t) / tokens));
    }
  }
  return qkv;
}

describe('SALE WGSL estimator equals its CPU twin on random qkv', () => {
  it.each([
    { tokens: 200, heads: 2, d: 16, tau: 0.04, mode: 'two-pass' as const, prefix: 0, qScale: 1 },
    { tokens: 300, heads: 2, d: 16, tau: 0.04, mode: 'one-pass' as const, prefix: 0, qScale: 1 },
    { tokens: 300, heads: 1, d: 32, tau: 0.04, mode: 'two-pass' as const, prefix: 300, qScale: 1 },
    { tokens: 260, heads: 1, d: 16, tau: 0.04, mode: 'one-pass' as const, prefix: 90, qScale: 1 },
    { tokens: 1000, heads: 1, d: 16, tau: 0.04, mode: 'two-pass' as const, prefix: 0, qScale: 1 },
  ])('T = $tokens, $heads heads of $d, τ $tau, $mode, prefix $prefix: both dot variants', async ({ tokens, heads, d, tau, mode, prefix, qScale }) => {
    const qkv = recencyQkv(randomQkv(tokens, tokens, heads, d, qScale), tokens, heads, d);
    const shape: SaleShape = { tokens, bidirectionalPrefix: prefix, firstTokenRow: prefix === tokens ? tokens - 1 : 0 };
    const allowed = denseKeyBlocks(tokens, heads, prefix);
    const twin = saleSelect(qkv, shape, heads, d, allowed, { tau: Array(heads).fill(tau), mode }).keyBlocks;
    // The estimate really chose: some middle blocks kept, some dropped.
    const listed = twin.flat(2).length;
    expect(listed).toBeLessThan(allowed.flat(2).length);
    expect(await gpuSelect(context, qkv, shape, heads, d, allowed, tau, mode, emulatedDot)).toEqual(twin);
    expect(await gpuSelect(context, qkv, shape, heads, d, allowed, tau, mode, null)).toEqual(twin);
    expect(blockCount(tokens)).toBe(allowed[0]!.length);
  });
});

describe('SALE through the engine', () => {
  it('recall-lm on a long needle prompt: selections, logits and MACs', async () => {
    const { config, weights, readJson } = readBundledModel('recall-lm');
    const items = (readJson('eval.json') as { items: { prompt: string; length: number }[] }).items;
    const prompt = [...items].sort((a, b) => b.length - a.length)[0]!.prompt;
    const ids = createTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'), config.vocab_size).encode(prompt).slice(0, 320);
    const engine = new TransformerEngine(context, config, weights);
    try {
      for (const mode of ['two-pass', 'one-pass']) {
        const plan = buildPlan(config, ids.length, [{ id: 'sale', params: { tau: 0.004, mode, denseBelow: 64 } }], { logitsRows: 'all' });
        expect(plan.layers.every((layer) => layer.estimator?.technique === 'sale')).toBe(true);
        const result = await engine.forward(plan, ids);
        expectMatchesCpuForward(result, plan, { config, weights, ids });
        expect(result.dispatchedMacs).toBe(countFlops(result.plan).total.macs);
        expect(countFlops(result.plan).total.macs).toBeLessThan(countFlops(plan).total.macs);
      }
    } finally {
      engine.destroy();
    }
  });

  it.each([
    { name: 'shapes-vit', parse: vitEvalItems },
    { name: 'shapes-vqa', parse: vqaEvalItems },
  ])('$name: selections, logits and MACs', async ({ name, parse }) => {
    const { config, weights, readJson } = readBundledModel(name);
    const item = parse(readJson('eval.json'))[0]!;
    const tokens = config.imageTokens + item.ids.length;
    const engine = new TransformerEngine(context, config, weights);
    try {
      const plan = buildPlan(config, tokens, [{ id: 'sale', params: { tau: 0.004, mode: 'two-pass', denseBelow: 0 } }], { logitsRows: 'all' });
      expect(plan.layers.every((layer) => layer.estimator?.technique === 'sale')).toBe(true);
      const pixels = pixelValues(item.image, config.image!);
      const result = await engine.forward(plan, item.ids, { pixels });
      expectMatchesCpuForward(result, plan, { config, weights, ids: item.ids, pixels });
      expect(result.dispatchedMacs).toBe(countFlops(result.plan).total.macs);
    } finally {
      engine.destroy();
    }
  });
});
