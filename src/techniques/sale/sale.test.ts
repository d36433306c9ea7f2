import { describe, expect, it } from 'vitest';
import { blockCount, denseKeyBlocks } from '../../engine/plan';
import { parseModelConfig } from '../../models/config';
import { buildPlan } from '../buildPlan';
import { defaultParams } from '../types';
import { randomQkv } from '../goldenInputs.testutil';
import { sale, saleRegion, saleSelect, type SaleShape } from './sale';

const causal = (tokens: number): SaleShape => ({ tokens, bidirectionalPrefix: 0, firstTokenRow: 0 });
const regions = (shape: SaleShape, b: number) => Array.from({ length: blockCount(shape.tokens) }, (_, k) => saleRegion(shape, b, k));

describe('SALE reference region', () => {
  it('is the sink, a local band of whole segments and the diagonal; the middle [1, m) between', () => {
    // T = 200: 13 key blocks, 7 query blocks of 32 (the last of 8 rows).
    expect(regions(causal(200), 0)).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(regions(causal(200), 2)).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    // b = 4: lastDiag 9, m = 1 + 4·⌊5/4⌋ = 5: middle 1–4, band 5–9 (the diagonal included).
    expect(regions(causal(200), 4)).toEqual([1, 2, 2, 2, 2, 1, 1, 1, 1, 1, 0, 0, 0]);
    expect(regions(causal(200), 5)).toEqual([1, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0]);
    // The last, partial query block: lastDiag 12, m = 1 + 4·⌊8/4⌋ = 9: band 9–12.
    expect(regions(causal(200), 6)).toEqual([1, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1]);
  });

  it('for T = 1000 (not a multiple of 16 or 32) and T = 100', () => {
    const last = regions(causal(1000), 31);
    expect(last.length).toBe(63);
    // firstDiag 62, m = 1 + 4·⌊57/4⌋ = 57: band 57–61.
    expect(last.map((r, k) => (r === 1 ? k : -1)).filter((k) => k >= 0)).toEqual([0, 57, 58, 59, 60, 61, 62]);
    expect(last.filter((r) => r === 2).length).toBe(56);
    expect(regions(causal(100), 3)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(regions(causal(100), 1)).toEqual([1, 1, 1, 1, 0, 0, 0]);
  });

  it('on a ViT the sink is CLS\'s block (the last row) and the band reaches forward', () => {
    const vit: SaleShape = { tokens: 300, bidirectionalPrefix: 300, firstTokenRow: 299 };
    // b = 4: lastDiag 9, band back 5–9 (m = 1 + 4·⌊5/4⌋ = 5), forward 10–13, sink 18; block 0 is a candidate.
    expect(regions(vit, 4)).toEqual([2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 1]);
    // b = 8: lastDiag 17, m = 1 + 4·⌊13/4⌋ = 13, so blocks 0–12 are middle; band 13–17, forward 18 (also the sink).
    expect(regions(vit, 8)).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1]);
  });

  it('on a VLM every image block is reference for every query', () => {
    const vlm: SaleShape = { tokens: 300, bidirectionalPrefix: 100, firstTokenRow: 0 };
    const r = regions(vlm, 8);
    expect(r.slice(0, 7)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(r.slice(7, 9)).toEqual([2, 2]);
  });
});

const config = parseModelConfig({ n_layer: 2, n_head: 2, n_embd: 32, n_positions: 1024, vocab_size: 10, layer_norm_epsilon: 1e-5 });
const heads = 2;
const d = 16;

describe('SALE estimator', () => {
  it('runs dense at or below denseBelow tokens', () => {
    const context = { config, layer: 0, tokens: 64, blockSize: 16, bidirectionalPrefix: 0, planned: denseKeyBlocks(64, heads) };
    expect(sale.estimateKeyBlocks!(context, defaultParams(sale))).toBeNull();
    expect(sale.estimateKeyBlocks!({ ...context, tokens: 65, planned: denseKeyBlocks(65, heads) }, defaultParams(sale))).not.toBeNull();
  });

  it('with τ = 0 keeps every planned block', () => {
    const tokens = 300;
    const planned = denseKeyBlocks(tokens, heads);
    const selection = saleSelect(randomQkv(1, tokens, heads, d, 1), causal(tokens), heads, d, planned, { tau: [0, 0], mode: 'two-pass' });
    expect(selection.keyBlocks).toEqual(planned);
  });

  it('keeps a planted spike key far in the middle at τ = 0.004 and drops it at a huge τ', () => {
    const tokens = 256;
    const qkv = randomQkv(7, tokens, heads, d, 0.3);
    const channels = heads * d;
    // Key 40 (block 2, middle for query block 7) points along query 250 of head 0, hard.
    for (let c = 0; c < d; c++) qkv[40 * 3 * channels + channels + c] = 8 * Math.sign(qkv[250 * 3 * channels + c]!);
    const planned = denseKeyBlocks(tokens, heads);
    for (const mode of ['two-pass', 'one-pass'] as const) {
      const kept = saleSelect(qkv, causal(tokens), heads, d, planned, { tau: [0.004, 0.004], mode });
      expect(kept.keyBlocks[0]![15]).toContain(2);
      expect(kept.keyBlocks[0]![14]).toContain(2);
      const dropped = saleSelect(qkv, causal(tokens), heads, d, planned, { tau: [1e30, 1e30], mode });
      expect(dropped.keyBlocks[0]![15]).not.toContain(2);
      // Reference region only: sink, band 9–13, diagonal 14–15.
      expect(dropped.keyBlocks[0]![15]).toEqual([0, 9, 10, 11, 12, 13, 14, 15]);
      expect(dropped.keyBlocks[0]![14]).toEqual([0, 9, 10, 11, 12, 13, 14]);
    }
  });

  it('chooses within a sliding window\'s planned lists, ascending, forced ∩ planned always listed', () => {
    const tokens = 400;
    const plan = buildPlan(config, tokens, [
      { id: 'sliding-window', params: { sinkTokens: 0, windowTokens: 200, fromLayer: 0, granularity: 'token' } },
      { id: 'sale', params: defaultParams(sale) },
    ]);
    const layer = plan.layers[0]!;
    const estimator = layer.estimator!;
    expect(estimator.technique).toBe('sale');
    const selection = estimator.reference(randomQkv(3, tokens, heads, d, 1), layer.keyBlocks, new Map());
    selection.keyBlocks.forEach((lists, h) => lists.forEach((keys, q) => {
      const planned = layer.keyBlocks[h]![q]!;
      expect(keys.every((k) => planned.includes(k))).toBe(true);
      expect([...keys].sort((a, b) => a - b)).toEqual(keys);
      expect(estimator.forced[h]![q]!.every((k) => keys.includes(k))).toBe(true);
    }));
    // The window dropped the sink for late queries: block 0 is forced but not planned there.
    expect(layer.keyBlocks[0]![24]).not.toContain(0);
    expect(selection.keyBlocks[0]![24]).not.toContain(0);
    expect(estimator.cost.intMacs).toBeGreaterThan(0);
  });
});
