import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseModelConfig, type TransformerConfig } from '../models/config';
import { readBundledModel } from '../models/bundledModel.testutil';
import { createOrtReference } from '../reference/ortReference';
import { buildPlan } from '../techniques/buildPlan';
import type { ActiveTechnique } from '../techniques/types';
import golden from './__fixtures__/tiny-gpt2-golden.json';
import { expectMatchesCpuForward } from './cpuParity.testutil';
import { GpuContext } from './gpuContext';
import { TransformerEngine } from './transformerEngine';
import { maxAbsDifference, randomGpt2Weights } from './kernelHarness';
import { nodeDevice } from './nodeDevice';

const config = parseModelConfig({ n_layer: 3, n_head: 2, n_embd: 16, n_positions: 128, vocab_size: 23, layer_norm_epsilon: 1e-5 });
const weights = randomGpt2Weights(config, 42);
const ids = Array.from({ length: 45 }, (_, i) => (i * 5 + 3) % config.vocab_size);

let context: GpuContext;
let engine: TransformerEngine;
beforeAll(async () => {
  context = new GpuContext(await nodeDevice());
  engine = new TransformerEngine(context, config, weights);
});

const sliding: ActiveTechnique = { id: 'sliding-window', params: { sinkTokens: 4, windowTokens: 16, fromLayer: 1 } };
const fastvLast: ActiveTechnique = { id: 'fastv', params: { layer: 1, ratio: 0.5, queries: 'last' } };
const fastvAll: ActiveTechnique = { id: 'fastv', params: { layer: 2, ratio: 0.3, queries: 'all' } };
const dropout: ActiveTechnique = { id: 'attention-dropout', params: { rate: 0.2, seed: 9, samples: 3 } };

describe('the GPU forward pass matches the CPU reference under every plan', () => {
  it.each([
    { name: 'dense', active: [] },
    { name: 'sliding window from layer 1', active: [sliding] },
    { name: 'FastV, last query, at layer 1', active: [fastvLast] },
    { name: 'FastV, all queries, at layer 2', active: [fastvAll] },
    { name: 'attention dropout, 3 MC samples', active: [dropout] },
    { name: 'all three together', active: [sliding, fastvLast, dropout] },
  ])('$name', async ({ active }) => {
    const plan = buildPlan(config, ids.length, active, { logitsRows: 'all', captureLayers: [0, 2] });
    const result = await engine.forward(plan, ids, { readAttention: [0, 2] });
    expectMatchesCpuForward(result, plan, { config, weights, ids });
  });

  it('FastV really runs the later layers on fewer tokens, keeping the last token and the order', async () => {
    const plan = buildPlan(config, ids.length, [fastvLast], { captureLayers: [2] });
    expect(plan.layers.map((l) => l.tokens)).toEqual([45, 23, 23]);
    const result = await engine.forward(plan, ids, { readAttention: [2] });
    const survivors = Array.from(result.layerPositions[1]!);
    expect(survivors).toHaveLength(23);
    expect(survivors.at(-1)).toBe(44);
    expect([...survivors].sort((a, b) => a - b)).toEqual(survivors);
    expect(result.attention[0]!.probs).toHaveLength(config.n_head * 23 * 23);
  });

  it('Monte-Carlo samples differ from each other and the same seed reproduces them exactly', async () => {
    const plan = buildPlan(config, ids.length, [dropout]);
    const first = await engine.forward(plan, ids);
    const again = await engine.forward(plan, ids);
    expect(Array.from(again.sampleProbs)).toEqual(Array.from(first.sampleProbs));
    const vocab = config.vocab_size;
    expect(maxAbsDifference(first.sampleProbs.subarray(0, vocab), first.sampleProbs.subarray(vocab, 2 * vocab))).toBeGreaterThan(1e-4);
    const reseeded = await engine.forward(buildPlan(config, ids.length, [{ ...dropout, params: { ...dropout.params, seed: 10 } }]), ids);
    expect(Array.from(reseeded.sampleProbs)).not.toEqual(Array.from(first.sampleProbs));
  });

  it('toggling techniques repeatedly reuses pooled buffers instead of allocating new ones', async () => {
    const plans = [[], [sliding], [fastvLast], [dropout], [sliding, fastvAll]].map((active) => buildPlan(config, ids.length, active, { captureLayers: [1] }));
    for (const plan of plans) await engine.forward(plan, ids, { readAttention: [1] });
    const afterWarmUp = context.pool.allocatedCount;
    for (let round = 0; round < 3; round++) for (const plan of plans) await engine.forward(plan, ids, { readAttention: [1] });
    expect(context.pool.allocatedCount).toBe(afterWarmUp);
  });

  it('rejects an input longer than the model takes, and out-of-vocabulary ids, with a clear message', async () => {
    const plan = buildPlan(config, 3, []);
    await expect(engine.forward(plan, [1, 2, 99])).rejects.toThrow(/outside the vocabulary/);
    expect(() => buildPlan(config, 129, [])).toThrow(/at most 128/);
  });
});

function loadBundled(name: string): { folder: string; config: TransformerConfig; engine: TransformerEngine } {
  const { folder, config, weights } = readBundledModel(name);
  return { folder, config, engine: new TransformerEngine(context, config, weights) };
}

describe('the bundled tiny GPT-2 reproduces PyTorch', () => {
  it('logits of every position match the PyTorch golden fixture within 1e-3', async () => {
    const { config, engine: tiny } = loadBundled('tiny-random-gpt2');
    try {
      for (const testCase of golden.cases) {
        const plan = buildPlan(config, testCase.input_ids.length, [], { logitsRows: 'all' });
        const result = await tiny.forward(plan, testCase.input_ids);
        const error = maxAbsDifference(result.logits, testCase.logits);
        console.info(`${testCase.name}: max |Δlogit| engine vs PyTorch = ${error.toExponential(2)}`);
        expect(error).toBeLessThanOrEqual(1e-3);
      }
    } finally {
      tiny.destroy();
    }
  });
});

describe.each(['tiny-random-gpt2', 'recall-lm'])('the bundled %s matches onnxruntime-web on the same ONNX file', (name) => {
  let bundled: ReturnType<typeof loadBundled>;
  beforeAll(() => {
    bundled = loadBundled(name);
    return () => bundled.engine.destroy();
  });

  it.each([7, 100, 1024])('logits of every position within 1e-3 at T=%i', async (tokens) => {
    const { folder, config, engine } = bundled;
    const reference = await createOrtReference(new Uint8Array(readFileSync(`${folder}/onnx/model.onnx`)), { provider: 'wasm' });
    try {
      const input = Array.from({ length: tokens }, (_, i) => (i * 131 + 17) % config.vocab_size);
      const plan = buildPlan(config, tokens, [], { logitsRows: 'all' });
      const ours = await engine.forward(plan, input);
      const theirs = await reference.logits(input);
      const error = maxAbsDifference(ours.logits, theirs);
      console.info(`${name} T=${tokens}: max |Δlogit| engine vs onnxruntime-web = ${error.toExponential(2)}`);
      expect(error).toBeLessThanOrEqual(1e-3);
    } finally {
      await reference.dispose();
    }
  });
});
