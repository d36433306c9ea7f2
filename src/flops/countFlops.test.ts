import { describe, expect, it } from 'vitest';
import { allHeads, denseKeyBlocks, type ExecutionPlan, type KeyBlockLists, type ReductionStep, type TokenMask } from '../engine/plan';
import { parseModelConfig, type TransformerConfig } from '../models/config';
import { buildPlan } from '../techniques/buildPlan';
import { FLOP_CONVENTION, countFlops, countPairs, densePairs, densePlanFor, denseReference, tilePairs } from './countFlops';

// Tiny model: d = 16, H = 2 (dh = 8), L = 2, V = 50.
const tiny = parseModelConfig({
  n_layer: 2,
  n_head: 2,
  n_embd: 16,
  n_positions: 128,
  vocab_size: 50,
  layer_norm_epsilon: 1e-5,
});

const gpt2Small = parseModelConfig({
  n_layer: 12,
  n_head: 12,
  n_embd: 768,
  n_positions: 1024,
  vocab_size: 50257,
  layer_norm_epsilon: 1e-5,
});

function densePlan(config: TransformerConfig, tokens: number, blockSize: number, logitsRows: 'last' | 'all'): ExecutionPlan {
  const keyBlocks = denseKeyBlocks(tokens, config.n_head, 0, blockSize);
  return {
    config,
    inputTokens: tokens,
    blockSize,
    layers: Array.from({ length: config.n_layer }, (_, index) => ({ index, tokens, bidirectionalPrefix: 0, tokenWindow: null, heads: allHeads(config), keyBlocks, captureAttention: false, estimator: null, selection: null })),
    reductions: [],
    dropout: null,
    logitsRows,
    techniques: [],
  };
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** The mask of a layer of `tokens` tokens with no token window. */
function baseMask(tokens: number, bidirectionalPrefix = 0): TokenMask {
  return { tokens, bidirectionalPrefix, tokenWindow: null, firstTokenRow: 0 };
}

describe('tilePairs', () => {
  it('clips the last block and counts the causal triangle of diagonal tiles', () => {
    // T = 37, B = 16: blocks of 16, 16, 5 tokens.
    expect(tilePairs(1, 0, 16, baseMask(37))).toEqual({ executed: 256, useful: 256 });
    expect(tilePairs(1, 1, 16, baseMask(37))).toEqual({ executed: 256, useful: (16 * 17) / 2 }); // 136
    expect(tilePairs(2, 2, 16, baseMask(37))).toEqual({ executed: 25, useful: (5 * 6) / 2 }); // 15
    expect(tilePairs(2, 0, 16, baseMask(37))).toEqual({ executed: 80, useful: 80 });
    expect(tilePairs(0, 1, 16, baseMask(37))).toEqual({ executed: 256, useful: 0 }); // above the diagonal
    // Inside a bidirectional prefix keys above the diagonal count too.
    expect(tilePairs(0, 1, 16, baseMask(37, 37))).toEqual({ executed: 256, useful: 256 });
    expect(tilePairs(0, 1, 16, baseMask(37, 20))).toEqual({ executed: 256, useful: 16 * 4 }); // keys 16..19 of the prefix
    expect(tilePairs(3, 0, 16, baseMask(37))).toEqual({ executed: 0, useful: 0 }); // past the tokens
  });
});

describe('countFlops on a dense causal plan', () => {
  it('(a) tiny model, T = 37, B = 16: matmul MACs = T·N plus the causal attention term', () => {
    const report = countFlops(densePlan(tiny, 37, 16, 'all'));
    // N = L·(d·3d + d·d + d·4d + 4d·d) + V·d = 2·(768 + 256 + 1024 + 1024) + 50·16 = 2·3072 + 800 = 6944.
    // Projections + MLP + LM head: T·N = 37·6944 = 256928.
    // Useful pairs per head = T(T+1)/2 = 37·38/2 = 703; attention MACs = 2·L·H·dh·703 = 2·2·2·8·703 = 64·703 = 44992.
    expect(report.perSample.usefulMacs).toBe(256928 + 44992); // 301920
    expect(report.perSample.usefulFlops).toBe(2 * 301920);
    expect(report.usefulPairs).toBe(2 * 2 * 703); // L·H·703
    expect(report.attentionDensity).toBe(1);
    expect(report.lmHead.rows).toBe(37);
    expect(report.lmHead.macs).toBe(37 * 50 * 16); // 29600
    expect(report.embedding.macs).toBe(0);
  });

  it('(b) executed pairs are the full tiles, diagonal included, clipped to T', () => {
    const report = countFlops(densePlan(tiny, 37, 16, 'all'));
    // Per head: q0: k0 = 16·16 = 256; q1: k0,k1 = 2·256 = 512; q2 (5 rows): k0,k1 = 2·5·16 = 160, k2 = 5·5 = 25.
    // 256 + 512 + 160 + 25 = 953; per layer (H = 2) 1906.
    const layer = report.layers[0]!;
    expect(layer.executedPairs).toBe(1906);
    expect(layer.usefulPairs).toBe(1406); // 953 − upper triangles (120 + 120 + 10 = 250) = 703 per head
    expect(layer.densePairs).toBe(1406);
    expect(layer.squarePairs).toBe(2 * 37 * 37);
    // Layer MACs: 37·12·16² = 113664 for the projections and MLP, 2·1906·8 = 30496 for QKᵀ and PV.
    expect(layer.macs).toEqual({
      qkv: 37 * 16 * 48, // 28416
      attnScores: 1906 * 8, // 15248
      attnValues: 1906 * 8,
      attnProj: 37 * 16 * 16, // 9472
      mlpUp: 37 * 16 * 64, // 37888
      mlpDown: 37 * 64 * 16,
      overhead: 0,
      overheadInt: 0,
    });
    expect(layer.macsTotal).toBe(144160);
    expect(layer.flops).toBe(288320);
    // Non-matmul: LN 2·5·n·d + bias (3d + d + 4d + d)·n + residual 2·n·d + GELU 4·n·d = 25·n·d = 14800, softmax 1906.
    expect(layer.nonMatmulParts).toEqual({
      layerNorm: 5920,
      bias: 5328,
      residual: 1184,
      softmax: 1906,
      gelu: 2368,
      dropout: 0,
      compaction: 0,
    });
    expect(layer.nonMatmul).toBe(16706);
    // Totals: 2 layers · 144160 + LM head 29600 = 317920 MACs; non-matmul: 2·16706 + embedding add 37·16 = 592
    // + ln_f 5·37·16 = 2960 → 36964.
    expect(report.perSample.macs).toBe(317920);
    expect(report.perSample.flops).toBe(635840);
    expect(report.perSample.nonMatmul).toBe(36964);
    expect(report.perSample.deepspeedFlops).toBe(635840 + 36964);
    expect(report.perSample.fvcoreFlops).toBe(317920 + 2 * 5920 + 2960);
  });

  it('(a) GPT-2 small, T = 1024, all logits rows: 123.53 M matmul weights, 247.1 MFLOP/token, 272.3 GFLOP', () => {
    const report = countFlops(densePlan(gpt2Small, 1024, 16, 'all'));
    // Matmul weights: 12·(768·2304 + 768² + 2·768·3072) = 12·7077888 = 84934656; LM head 50257·768 = 38597376.
    const matmulParams = 84934656 + 38597376; // 123532032
    const attentionUsefulMacs = 2 * 12 * 12 * 64 * ((1024 * 1025) / 2); // 2·L·H·dh·524800 = 9673113600
    expect(report.perSample.usefulMacs).toBe(1024 * matmulParams + attentionUsefulMacs);
    const matmulMacs = report.perSample.usefulMacs - attentionUsefulMacs;
    expect((2 * matmulMacs) / 1024 / 1e6).toBeCloseTo(247.064, 3);
    expect(report.perSample.usefulFlops).toBe(272339828736); // ≈ 272.3 GFLOP with causal attention
    // Attention core alone, useful pairs: 4·dh·P·H·L = 4·64·524800·144 ≈ 19.3 GFLOP (sparse-attention spec §0).
    expect(sum(report.layers.map((l) => 4 * l.usefulPairs * 64)) / 1e9).toBeCloseTo(19.35, 2);
    // The PyTorch sdpa convention (full square, no causal discount) gives the spec's 291.6 GFLOP.
    const squareMacs = sum(report.layers.map((l) => 2 * l.squarePairs * 64));
    expect(2 * (matmulMacs + squareMacs)).toBe(291648307200);
    // Executed: 64 full block rows → 64·65/2 = 2080 tiles of 256 pairs = 532480 pairs per head.
    expect(report.layers[0]!.executedPairs).toBe(12 * 532480);
    expect(report.perSample.macs).toBe(1024 * matmulParams + 2 * 12 * 12 * 64 * 532480);
  });
});

describe('countFlops with techniques', () => {
  it('(c) a sink + last-two-blocks window cuts attnScores by exactly the skipped tiles', () => {
    // T = 69, B = 16: blocks 0..3 hold 16 tokens, block 4 holds 5.
    const tokens = 69;
    const dense = densePlan(tiny, tokens, 16, 'last');
    const window = [[0], [0, 1], [0, 1, 2], [0, 2, 3], [0, 3, 4]];
    const denseHead = denseKeyBlocks(tokens, 1, 0, 16)[0]!;
    // Head 0 uses the window, head 1 stays dense.
    const keyBlocks: KeyBlockLists = [window, denseHead];
    const sparse: ExecutionPlan = {
      ...dense,
      layers: dense.layers.map((l) => ({ ...l, keyBlocks })),
      techniques: ['sliding-window'],
    };
    const before = countFlops(dense);
    const after = countFlops(sparse);
    // Skipped tiles of head 0: (q3, k1) = 16·16 = 256; (q4, k1) and (q4, k2) = 2·5·16 = 160 → 416 pairs,
    // all below the diagonal, so executed and useful drop alike. attnScores drops by 416·dh = 416·8 = 3328.
    for (let i = 0; i < 2; i++) {
      const b = before.layers[i]!;
      const a = after.layers[i]!;
      expect(b.macs.attnScores - a.macs.attnScores).toBe(3328);
      expect(b.macs.attnValues - a.macs.attnValues).toBe(3328);
      expect(b.executedPairs - a.executedPairs).toBe(416);
      expect(b.usefulPairs - a.usefulPairs).toBe(416);
      expect(b.nonMatmulParts.softmax - a.nonMatmulParts.softmax).toBe(416);
      expect(a.macs.qkv).toBe(b.macs.qkv);
    }
    expect(before.perSample.macs - after.perSample.macs).toBe(2 * 2 * 3328); // L · (scores + values)
    // Dense causal pairs per layer: H·69·70/2 = 4830; useful after = 4830 − 416 = 4414.
    expect(after.attentionDensity).toBeCloseTo(4414 / 4830, 12);
    // The dense reference ignores the technique.
    expect(denseReference(sparse).perSample).toEqual(before.perSample);
  });

  it('(d) pruning to k tokens before layer K makes layers ≥ K cost C(k) plus the scorer overhead', () => {
    const config: TransformerConfig = { ...tiny, n_layer: 4 };
    const n = 37;
    const k = 20;
    const K = 2;
    const scorer = { source: '', constants: {}, macs: 1234, reference: () => new Float32Array(n) };
    const step: ReductionStep = {
      technique: 'fastv', layer: K, point: 'input', input: { kind: 'attention-probs', layer: K - 1 }, kind: 'select',
      tokensBefore: n, keep: k, bidirectionalPrefix: 0, protectedTail: 1, scorer,
    };
    const keyN = denseKeyBlocks(n, 2, 0, 16);
    const keyK = denseKeyBlocks(k, 2, 0, 16);
    const plan: ExecutionPlan = {
      config,
      inputTokens: n,
      blockSize: 16,
      layers: [0, 1, 2, 3].map((index) => ({
        index,
        tokens: index < K ? n : k,
        bidirectionalPrefix: 0,
        tokenWindow: null,
        heads: allHeads(config),
        keyBlocks: index < K ? keyN : keyK,
        captureAttention: index === K - 1,
        estimator: null,
        selection: null,
      })),
      reductions: [step],
      dropout: null,
      logitsRows: 'last',
      techniques: ['fastv'],
    };
    // C(n) = 12·d²·n + 2·dh·executedPairs(n):
    //   C(37) = 3072·37 + 16·1906 = 113664 + 30496 = 144160.
    //   k = 20 → blocks 16 + 4; pairs per head 256 + (4·16 + 4·4) = 336; H = 2 → 672;
    //   C(20) = 3072·20 + 16·672 = 61440 + 10752 = 72192.
    const report = countFlops(plan);
    expect(report.layers.map((l) => l.macsTotal)).toEqual([144160, 144160, 72192 + 1234, 72192]);
    expect(report.layers[2]!.macs.overhead).toBe(1234);
    expect(report.layers[2]!.overhead).toEqual([{ technique: 'fastv', macs: 1234, intMacs: 0 }]);
    expect(report.layers[2]!.nonMatmulParts.compaction).toBe(37);
    expect(report.layers[3]!.nonMatmulParts.compaction).toBe(0);
    // LM head on the last row: 1·16·50 = 800.
    expect(report.lmHead.macs).toBe(800);
    expect(report.perSample.macs).toBe(2 * 144160 + 2 * 72192 + 1234 + 800); // 434738
    // Dense reference: four layers of C(37) and the same LM head.
    expect(denseReference(plan).perSample.macs).toBe(4 * 144160 + 800); // 577440
    const denseLayers = densePlanFor(plan).layers;
    expect(denseLayers.map((l) => l.tokens)).toEqual([37, 37, 37, 37]);
  });

  it('(d) with all logits rows the LM head runs on the survivors', () => {
    const config: TransformerConfig = { ...tiny, n_layer: 1 };
    const plan: ExecutionPlan = {
      ...densePlan(config, 20, 16, 'all'),
      inputTokens: 37,
    };
    // Survivors of the last layer: 20 rows · 16 · 50 = 16000.
    expect(countFlops(plan).lmHead.macs).toBe(16000);
    expect(countFlops(plan).lmHead.nonMatmul).toBe(5 * 20 * 16); // ln_f
  });

  it('(e) Monte-Carlo dropout with 3 samples triples every total', () => {
    const base = densePlan(tiny, 37, 16, 'last');
    const plan: ExecutionPlan = {
      ...base,
      dropout: {
        sites: [{ site: 'embedding', kind: 'element', rate: 0.1 }, { site: 'attention-probs', kind: 'element', rate: 0.1 }],
        seed: 7,
        samples: 3,
      },
      techniques: ['mc-dropout'],
    };
    const plain = countFlops(base);
    const report = countFlops(plan);
    expect(report.samples).toBe(3);
    // Dropout masks per sample: embedding 37·16 = 592, attention probs = executed pairs 1906 per layer → 3812.
    expect(report.perSample.nonMatmulParts.dropout).toBe(592 + 2 * 1906);
    expect(report.perSample.nonMatmul).toBe(plain.perSample.nonMatmul + 4404);
    expect(report.perSample.macs).toBe(plain.perSample.macs);
    // Per sample: 2·144160 + 800 = 289120 MACs; three forwards → 867360.
    expect(report.total.macs).toBe(3 * 289120);
    expect(report.total.flops).toBe(6 * 289120);
    expect(report.total.usefulMacs).toBe(3 * report.perSample.usefulMacs);
    expect(report.total.nonMatmul).toBe(3 * report.perSample.nonMatmul);
    expect(report.total.deepspeedFlops).toBe(3 * report.perSample.deepspeedFlops);
    expect(report.total.fvcoreFlops).toBe(3 * report.perSample.fvcoreFlops);
    // No technique in the reference: one forward, no masks.
    expect(denseReference(plan).total).toEqual(plain.total);
  });

  it('names the convention for the tooltip', () => {
    expect(FLOP_CONVENTION).toMatch(/2 × MACs/);
    expect(FLOP_CONVENTION).toMatch(/FlopCounterMode/);
  });
});

describe('a token window (sliding window, token-exact)', () => {
  const tokens = 100;
  const window = (granularity: string) => [{ id: 'sliding-window', params: { sinkTokens: 4, windowTokens: 20, fromLayer: 0, granularity } }];
  // Brute force from StreamingLLM's definition: query i keeps keys j ≤ i with j < 4 or i − j < 20.
  let aShapePairs = 0;
  for (let i = 0; i < tokens; i++) for (let j = 0; j <= i; j++) if (j < 4 || i - j < 20) aShapePairs++;

  it('counts exactly the A-shape as useful, whole tiles as executed, and leaves dense pairs alone', () => {
    const plan = buildPlan(tiny, tokens, window('token'));
    const layer = countFlops(plan).layers[0]!;
    expect(layer.usefulPairs).toBe(2 * aShapePairs); // H = 2
    // Query block q ≥ 2 reads the sink tile 0 and tiles q − 2…q (its first query reaches back to 16q − 19):
    // 256 + 2·256 + 3·256 + 3·(4·256) + 4 rows·(16 + 16 + 16 + 4) = 4816 pairs per head.
    expect(plan.layers[0]!.keyBlocks[0]![6]).toEqual([0, 4, 5, 6]);
    expect(layer.executedPairs).toBe(2 * 4816);
    expect(layer.densePairs).toBe(2 * densePairs(tokens, 0));
    expect(layer.attentionDensity).toBeCloseTo(aShapePairs / densePairs(tokens, 0), 12);
  });

  it('block granularity executes the same tiles but counts every causal pair in them as useful', () => {
    const exact = countFlops(buildPlan(tiny, tokens, window('token'))).layers[0]!;
    const whole = countFlops(buildPlan(tiny, tokens, window('block'))).layers[0]!;
    expect(whole.executedPairs).toBe(exact.executedPairs);
    expect(whole.usefulPairs).toBeGreaterThan(exact.usefulPairs);
  });
});

describe('bidirectional prefixes (ViT, a VLM\'s image tokens)', () => {
  it('dense pairs: n(n+1)/2 causal, n² bidirectional, and prefix² + the causal rest in between', () => {
    expect(densePairs(37, 0)).toBe((37 * 38) / 2);
    expect(densePairs(37, 37)).toBe(37 * 37);
    // Queries 0–3 see the 4 prefix keys; queries 4–9 see 5…10 keys.
    expect(densePairs(10, 4)).toBe(4 * 4 + (5 + 6 + 7 + 8 + 9 + 10));
  });

  it('the dense bidirectional lists are counted as n² useful pairs per head', () => {
    const tokens = 37;
    const lists = denseKeyBlocks(tokens, 2, tokens, 16);
    expect(lists[0]![0]).toEqual([0, 1, 2]);
    expect(countPairs(lists, baseMask(tokens, tokens), 16)).toEqual({ executed: 2 * 37 * 37, useful: 2 * 37 * 37 });
  });
});

describe('image models: patch embedding, classifier head, MLP width from the config', () => {
  // shapes-vit's shape: 64×64 images, 8×8 patches (64 + CLS = 65 tokens), d = 128, 4 heads, MLP 512, 3 classes.
  const vit = parseModelConfig({
    model_type: 'vit', hidden_size: 128, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 512, image_size: 64,
    patch_size: 8, num_channels: 3, id2label: { 0: 'one', 1: 'two', 2: 'three' },
  });

  it('a dense ViT is 2·(matmul weights)·tokens plus bidirectional attention, the patch embedding and the classifier', () => {
    const report = countFlops(buildPlan(vit, 65, []));
    const perToken = 128 * 384 + 128 * 128 + 2 * 128 * 512; // 196608 weights per layer and token
    const attention = 2 * 4 * 65 * 65 * 32; // QKᵀ and PV, every pair, 4 heads of 32
    expect(report.embedding.macs).toBe(64 * 192 * 128);
    expect(report.layers[0]!.macsTotal).toBe(65 * perToken + attention);
    expect(report.lmHead).toMatchObject({ rows: 1, macs: 128 * 3 });
    expect(report.lmHead.nonMatmulParts.bias).toBe(3);
    expect(report.perSample.macs).toBe(64 * 192 * 128 + 4 * (65 * perToken + attention) + 128 * 3);
    expect(report.attentionDensity).toBe(1);
  });

  it('FastV on a VLM shrinks the layers after K to the kept image tokens plus the whole question', () => {
    const vlm = parseModelConfig({
      model_type: 'shapes-vqa', n_layer: 4, n_head: 4, n_embd: 128, n_inner: 512, image_size: 64, patch_size: 8, num_channels: 3,
      num_image_tokens: 64, max_text_tokens: 8, vocab_size: 37, attention: 'prefix-lm',
    });
    const plan = buildPlan(vlm, 64 + 6, [{ id: 'fastv', params: { layer: 2, ratio: 0.75, queries: 'last' } }]);
    expect(plan.layers.map((l) => l.tokens)).toEqual([70, 70, 22, 22]); // 16 of 64 image tokens + 6 question tokens
    expect(plan.layers.map((l) => l.bidirectionalPrefix)).toEqual([64, 64, 16, 16]);
    const report = countFlops(plan);
    const dense = denseReference(plan);
    // Layers 2 and 3 run on 22 tokens instead of 70: the projections and MLP fall by exactly 48 tokens' worth.
    const perToken = 128 * 384 + 128 * 128 + 2 * 128 * 512;
    expect(dense.layers[2]!.macs.qkv + dense.layers[2]!.macs.attnProj + dense.layers[2]!.macs.mlpUp + dense.layers[2]!.macs.mlpDown).toBe(70 * perToken);
    expect(report.layers[2]!.macs.qkv + report.layers[2]!.macs.attnProj + report.layers[2]!.macs.mlpUp + report.layers[2]!.macs.mlpDown).toBe(22 * perToken);
    // The scorer reads the last query's row over the 64 image tokens, once per head.
    expect(report.layers[2]!.macs.overhead).toBe(4 * 64);
    expect(report.layers[2]!.usefulPairs).toBe(4 * densePairs(22, 16));
  });
});
