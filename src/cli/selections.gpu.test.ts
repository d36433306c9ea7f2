/** The headless selections CLI's core on recall-lm with the sliding window: what it reports is what the plan says. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countFlops, denseReference } from '../flops/countFlops';
import { readBundledModel } from '../models/bundledModel.testutil';
import { createTokenizer } from '../models/tokenizer';
import { buildPlan } from '../techniques/buildPlan';
import { techniques } from '../techniques/registry';
import { slidingWindow } from '../techniques/slidingWindow/slidingWindow';
import { defaultParams, type Technique } from '../techniques/types';
import { resolveTechniques, runSelections, SelectionsError } from './selections';
import { estimatorProbe, PROBE_ID } from './selectionsProbe.testutil';

const PROMPT = 'key: 7391. The quick brown fox jumps over the lazy dog, again and again. key?';

describe('runSelections', () => {
  it('reports the sliding window\'s lists, a density below 1 and the FLOP count of the plan', async () => {
    const params = { sinkTokens: '2', windowTokens: '16' };
    const report = await runSelections({ model: 'recall-lm', prompt: PROMPT, techniques: [{ id: slidingWindow.id, params }] });

    const { config, readJson } = readBundledModel('recall-lm');
    const ids = createTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'), config.vocab_size).encode(PROMPT);
    const active = [{ id: slidingWindow.id, params: { ...defaultParams(slidingWindow), sinkTokens: 2, windowTokens: 16 } }];
    const plan = buildPlan(config, ids.length, active, { logitsRows: 'last' });

    expect(report.ids).toEqual(ids);
    expect(report.tokens).toHaveLength(ids.length);
    expect(report.techniques).toEqual(active);
    expect(report.selectionCheck).toEqual({ agree: true, estimatedLayers: [], mismatches: [] });
    expect(report.layers).toHaveLength(config.n_layer);
    const flops = countFlops(plan);
    const dim = config.n_embd / config.n_head;
    report.layers.forEach((layer, l) => {
      expect(layer.tokenWindow).toEqual({ sinks: 2, window: 16 });
      expect(layer.estimator).toBeNull();
      expect(layer.heads.map((h) => h.keyBlocks)).toEqual(plan.layers[l]!.keyBlocks);
      for (const head of layer.heads) {
        expect(head.density).toBeGreaterThan(0);
        expect(head.density).toBeLessThan(1);
        expect(head.q).toHaveLength(ids.length);
        expect(head.k?.[0]).toHaveLength(dim);
        expect(head.keyMask).toBeUndefined();
      }
      const counted = flops.layers[l]!;
      expect(layer.flops).toMatchObject({
        executedPairs: counted.executedPairs, usefulPairs: counted.usefulPairs, densePairs: counted.densePairs,
        macs: counted.macs, macsTotal: counted.macsTotal, overhead: counted.overhead, flops: counted.flops,
      });
      // Heads share the window: the per-head pairs add up to the layer's.
      expect(layer.heads.reduce((sum, h) => sum + h.usefulPairs, 0)).toBe(counted.usefulPairs);
    });
    expect(report.flops.perSample).toEqual(flops.perSample);
    expect(report.flops.denseReference).toEqual(denseReference(plan).perSample);
    expect(report.flops.attentionDensity).toBeLessThan(1);
    expect(report.flops.flopRatio).toBeLessThan(1);
  });

  it('leaves out q and k when asked', async () => {
    const report = await runSelections({ model: 'recall-lm', prompt: 'abc abc', techniques: [], includeQk: false });
    expect(report.layers[0]!.heads[0]!.q).toBeUndefined();
    expect(report.layers[0]!.heads[0]!.density).toBe(1);
  });

  it('names what is wrong with a request', async () => {
    expect(() => resolveTechniques([{ id: 'nope', params: {} }])).toThrow(/unknown technique "nope" \(registered: .*sliding-window/);
    expect(() => resolveTechniques([{ id: slidingWindow.id, params: { tau: '1' } }])).toThrow(/no parameter "tau" \(its parameters: sinkTokens/);
    expect(() => resolveTechniques([{ id: slidingWindow.id, params: { windowTokens: '0' } }])).toThrow(SelectionsError);
    await expect(runSelections({ model: 'nope', prompt: 'a', techniques: [] })).rejects.toThrow(/unknown model "nope" \(bundled: recall-lm/);
    await expect(runSelections({ model: 'recall-lm', prompt: 'a'.repeat(1025), techniques: [] })).rejects.toThrow(/1025 tokens long; recall-lm takes at most 1024/);
  });
});

describe('runSelections with a GPU estimator', () => {
  const registry = techniques as Technique[];
  beforeAll(() => {
    registry.push(estimatorProbe);
  });
  afterAll(() => {
    registry.splice(registry.indexOf(estimatorProbe), 1);
  });

  it('reports what the estimator chose, its key mask and its overhead, and that the CPU twin agrees', async () => {
    const report = await runSelections({ model: 'recall-lm', prompt: PROMPT, techniques: [{ id: PROBE_ID, params: {} }], includeQk: false });
    const tokens = report.ids.length;
    expect(report.selectionCheck).toEqual({ agree: true, estimatedLayers: [0, 1], mismatches: [] });
    for (const layer of report.layers) {
      expect(layer.estimator).toBe(PROBE_ID);
      expect(layer.forced?.[0]?.[2]).toEqual([2]);
      for (const head of layer.heads) {
        expect(head.keyBlocks).toEqual(head.keyBlocks.map((_, q) => (q === 0 ? [0] : [0, q])));
        expect(head.keyMask).toHaveLength(tokens);
        expect(head.keyMask?.[5]).toEqual(Array.from({ length: tokens }, (_, j) => j).filter((j) => (5 + j) % 2 === 0 || j === 5));
        expect(head.density).toBeLessThan(0.6);
      }
      expect(layer.flops.overhead).toEqual([{ technique: PROBE_ID, macs: tokens, intMacs: tokens }]);
      expect(layer.heads.reduce((sum, h) => sum + h.usefulPairs, 0)).toBe(layer.flops.usefulPairs);
    }
  });
});
