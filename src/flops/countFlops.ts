import { denseKeyBlocks, tokenMask, visibleKeyCount, type ExecutionPlan, type KeyBlockLists, type LayerPlan, type TokenMask } from '../engine/plan';
import type { TransformerConfig } from '../models/config';

/** Tooltip text for the FLOPs panel: which convention every number in a FlopReport follows. */
export const FLOP_CONVENTION =
  'FLOPs = 2 × MACs for matmul work (PyTorch FlopCounterMode convention). ' +
  'LayerNorm, bias, residual add, GELU, softmax, dropout masks and token compaction are a separate ' +
  '"non-matmul" bucket (DeepSpeed rules: LayerNorm 5·numel, the others numel): drop it to compare with fvcore, keep it to compare with DeepSpeed.';

/** Multiply-accumulates of one layer, per matmul of the GPT-2 block (attention counted on executed pairs). */
export interface MatmulMacs {
  /** c_attn: n·d·3d. */
  qkv: number;
  /** QKᵀ: executed pairs · dh, summed over heads. */
  attnScores: number;
  /** P·V: executed pairs · dh, summed over heads. */
  attnValues: number;
  /** attention c_proj: n·d·d. */
  attnProj: number;
  /** mlp c_fc: n·d·m (m = n_inner, 4d in GPT-2). */
  mlpUp: number;
  /** mlp c_proj: n·m·d. */
  mlpDown: number;
  /** Technique overhead run at this layer's input (token-pruning scorers). */
  overhead: number;
}

/** Elementwise work under DeepSpeed's rules (not multiplied by 2: one element = one FLOP). */
export interface NonMatmulParts {
  /** 5·numel per LayerNorm (affine). */
  layerNorm: number;
  /** numel per bias add (c_attn, c_proj, c_fc, mlp c_proj). */
  bias: number;
  /** numel per residual add (and the token + position embedding add). */
  residual: number;
  /** numel of the executed score pairs. */
  softmax: number;
  /** numel of the MLP hidden activations. */
  gelu: number;
  /** Elements masked by dropout sites whose rate is above 0. */
  dropout: number;
  /** Token pruning's selection/compaction: tokensBefore per prune step. */
  compaction: number;
}

export interface OverheadItem {
  technique: string;
  macs: number;
}

export interface LayerFlops {
  layer: number;
  tokens: number;
  macs: MatmulMacs;
  /** Sum of `macs` (executed attention, overhead included). */
  macsTotal: number;
  /** As `macsTotal`, with attention counted on useful pairs only. */
  usefulMacsTotal: number;
  /** (query, key) pairs in every listed tile, clipped to `tokens`, summed over heads. */
  executedPairs: number;
  /** Executed pairs the mask allows (key ≤ query, or both inside the bidirectional prefix, and inside any token window), summed over heads. */
  usefulPairs: number;
  /** What dense attention on this layer's tokens would need: H·n(n+1)/2 when causal, H·n² when bidirectional. */
  densePairs: number;
  /** H·n²: the unmasked square that PyTorch's sdpa_flop_count assumes. */
  squarePairs: number;
  /** usefulPairs / densePairs (1 for dense attention). */
  attentionDensity: number;
  /** Overhead broken down by technique (sums to macs.overhead). */
  overhead: OverheadItem[];
  /** Sum of `nonMatmulParts`. */
  nonMatmul: number;
  nonMatmulParts: NonMatmulParts;
  /** 2 × macsTotal. */
  flops: number;
  /** 2 × usefulMacsTotal. */
  usefulFlops: number;
}

export interface EmbeddingFlops {
  tokens: number;
  /** Patch embedding: patches·(channels·patch²)·d. Token and position embeddings are lookups: 0 MACs. */
  macs: number;
  nonMatmul: number;
  nonMatmulParts: NonMatmulParts;
}

export interface LmHeadFlops {
  /** 1 for logitsRows 'last', else the tokens surviving the last layer. */
  rows: number;
  /** rows·d·V (V: vocabulary or a classifier's labels) plus overhead of prune steps placed after the last layer. */
  macs: number;
  overhead: OverheadItem[];
  flops: number;
  /** ln_f on the logits rows (5·rows·d), a classifier's bias (rows·V), compaction of prune steps after the last layer. */
  nonMatmul: number;
  nonMatmulParts: NonMatmulParts;
}

export interface FlopTotals {
  /** Matmul MACs (executed attention, overhead included). */
  macs: number;
  /** As `macs`, with attention counted on useful pairs only. */
  usefulMacs: number;
  /** 2 × macs: PyTorch FlopCounterMode convention. */
  flops: number;
  /** 2 × usefulMacs. */
  usefulFlops: number;
  nonMatmul: number;
  nonMatmulParts: NonMatmulParts;
  /** flops + nonMatmul: DeepSpeed flops-profiler convention. */
  deepspeedFlops: number;
  /** macs + LayerNorm part of the bucket: fvcore convention (one FMA = one flop, layer_norm 5·numel, the rest 0). */
  fvcoreFlops: number;
}

export interface FlopReport {
  blockSize: number;
  inputTokens: number;
  /** Forward passes the plan runs (dropout Monte-Carlo samples, else 1). */
  samples: number;
  techniques: string[];
  embedding: EmbeddingFlops;
  layers: LayerFlops[];
  lmHead: LmHeadFlops;
  /** One forward pass. */
  perSample: FlopTotals;
  /** perSample × samples. */
  total: FlopTotals;
  executedPairs: number;
  usefulPairs: number;
  densePairs: number;
  /** Σ usefulPairs / Σ densePairs over layers (on each layer's own tokens). */
  attentionDensity: number;
}

export interface PairCount {
  executed: number;
  useful: number;
}

function emptyParts(): NonMatmulParts {
  return { layerNorm: 0, bias: 0, residual: 0, softmax: 0, gelu: 0, dropout: 0, compaction: 0 };
}

function sumParts(parts: NonMatmulParts): number {
  return parts.layerNorm + parts.bias + parts.residual + parts.softmax + parts.gelu + parts.dropout + parts.compaction;
}

function addParts(a: NonMatmulParts, b: NonMatmulParts, scale = 1): NonMatmulParts {
  return {
    layerNorm: a.layerNorm + scale * b.layerNorm,
    bias: a.bias + scale * b.bias,
    residual: a.residual + scale * b.residual,
    softmax: a.softmax + scale * b.softmax,
    gelu: a.gelu + scale * b.gelu,
    dropout: a.dropout + scale * b.dropout,
    compaction: a.compaction + scale * b.compaction,
  };
}

/**
 * Pairs of one (query block, key block) tile of a layer: executed = the tile clipped to the layer's tokens, as the
 * kernel walks it; useful = the executed pairs the layer's mask lets through, token window included.
 */
export function tilePairs(queryBlock: number, keyBlock: number, blockSize: number, mask: TokenMask): PairCount {
  const q0 = queryBlock * blockSize;
  const q1 = Math.min(q0 + blockSize, mask.tokens);
  const k0 = keyBlock * blockSize;
  const k1 = Math.min(k0 + blockSize, mask.tokens);
  if (q1 <= q0 || k1 <= k0) return { executed: 0, useful: 0 };
  let useful = 0;
  for (let i = q0; i < q1; i++) useful += visibleKeyCount(mask, i, k0, k1);
  return { executed: (q1 - q0) * (k1 - k0), useful };
}

/** Pairs the dense mask allows for one head: causal, plus both directions inside the prefix. */
export function densePairs(tokens: number, bidirectionalPrefix: number): number {
  const prefix = Math.min(bidirectionalPrefix, tokens);
  return prefix * prefix + ((tokens - prefix) * (tokens + prefix + 1)) / 2;
}

/** Executed and useful pairs of one layer's key-block lists under its mask, summed over heads and query blocks. */
export function countPairs(lists: KeyBlockLists, mask: TokenMask, blockSize: number): PairCount {
  let executed = 0;
  let useful = 0;
  // Heads usually list the same tiles: count each tile once.
  const tiles = new Map<number, PairCount>();
  const keyBlocksPerRow = Math.ceil(mask.tokens / blockSize);
  for (const head of lists) {
    head.forEach((keyBlocks, q) => {
      for (const k of keyBlocks) {
        let tile = tiles.get(q * keyBlocksPerRow + k);
        if (!tile) {
          tile = tilePairs(q, k, blockSize, mask);
          tiles.set(q * keyBlocksPerRow + k, tile);
        }
        executed += tile.executed;
        useful += tile.useful;
      }
    });
  }
  return { executed, useful };
}

function dropoutRates(plan: ExecutionPlan): { embedding: boolean; attention: boolean; residual: boolean } {
  const rates = plan.dropout?.rates;
  return {
    embedding: (rates?.embedding ?? 0) > 0,
    attention: (rates?.attention ?? 0) > 0,
    residual: (rates?.residual ?? 0) > 0,
  };
}

function countLayer(plan: ExecutionPlan, layer: LayerPlan): LayerFlops {
  const config: TransformerConfig = plan.config;
  const n = layer.tokens;
  const d = config.n_embd;
  const heads = config.n_head;
  const dh = d / heads;
  const m = config.n_inner;
  const drop = dropoutRates(plan);

  const pairs = countPairs(layer.keyBlocks, tokenMask(config, layer), plan.blockSize);
  const overhead: OverheadItem[] = plan.pruning
    .filter((step) => step.beforeLayer === layer.index)
    .map((step) => ({ technique: step.technique, macs: step.scorer.macs }));
  const compaction = plan.pruning
    .filter((step) => step.beforeLayer === layer.index)
    .reduce((sum, step) => sum + step.tokensBefore, 0);

  const macs: MatmulMacs = {
    qkv: n * d * 3 * d,
    attnScores: pairs.executed * dh,
    attnValues: pairs.executed * dh,
    attnProj: n * d * d,
    mlpUp: n * d * m,
    mlpDown: n * m * d,
    overhead: overhead.reduce((sum, item) => sum + item.macs, 0),
  };
  const macsTotal = macs.qkv + macs.attnScores + macs.attnValues + macs.attnProj + macs.mlpUp + macs.mlpDown + macs.overhead;
  const usefulMacsTotal = macsTotal - 2 * (pairs.executed - pairs.useful) * dh;

  const nonMatmulParts: NonMatmulParts = {
    layerNorm: 2 * 5 * n * d, // ln_1, ln_2
    bias: n * 3 * d + n * d + n * m + n * d, // c_attn, c_proj, c_fc, mlp c_proj
    residual: 2 * n * d,
    softmax: pairs.executed,
    gelu: n * m,
    dropout: (drop.attention ? pairs.executed : 0) + (drop.residual ? 2 * n * d : 0),
    compaction,
  };
  const nonMatmul = sumParts(nonMatmulParts);
  const denseMaskPairs = heads * densePairs(n, layer.bidirectionalPrefix);

  return {
    layer: layer.index,
    tokens: n,
    macs,
    macsTotal,
    usefulMacsTotal,
    executedPairs: pairs.executed,
    usefulPairs: pairs.useful,
    densePairs: denseMaskPairs,
    squarePairs: heads * n * n,
    attentionDensity: denseMaskPairs > 0 ? pairs.useful / denseMaskPairs : 1,
    overhead,
    nonMatmul,
    nonMatmulParts,
    flops: 2 * macsTotal,
    usefulFlops: 2 * usefulMacsTotal,
  };
}

function totals(macs: number, usefulMacs: number, parts: NonMatmulParts, scale: number): FlopTotals {
  const scaled = addParts(emptyParts(), parts, scale);
  const nonMatmul = sumParts(scaled);
  return {
    macs: macs * scale,
    usefulMacs: usefulMacs * scale,
    flops: 2 * macs * scale,
    usefulFlops: 2 * usefulMacs * scale,
    nonMatmul,
    nonMatmulParts: scaled,
    deepspeedFlops: 2 * macs * scale + nonMatmul,
    fvcoreFlops: macs * scale + scaled.layerNorm,
  };
}

/** FLOPs and MACs of everything `plan` executes: per layer, embedding, LM head, per Monte-Carlo sample and in total. */
export function countFlops(plan: ExecutionPlan): FlopReport {
  const { config } = plan;
  const d = config.n_embd;
  const vocab = config.vocab_size;
  const drop = dropoutRates(plan);

  const patches = config.image ? config.image.grid ** 2 : 0;
  const embeddingMacs = config.image ? patches * config.image.channels * config.image.patch ** 2 * d : 0;
  const embeddingParts: NonMatmulParts = {
    ...emptyParts(),
    bias: patches * d, // patch projection bias
    residual: plan.inputTokens * d, // + position embedding, on every row
    dropout: drop.embedding ? plan.inputTokens * d : 0,
  };
  const embedding: EmbeddingFlops = {
    tokens: plan.inputTokens,
    macs: embeddingMacs,
    nonMatmul: sumParts(embeddingParts),
    nonMatmulParts: embeddingParts,
  };

  const layers = plan.layers.map((layer) => countLayer(plan, layer));

  // Prune steps placed after the last layer (none in practice) shrink the LM head's rows; their cost lands there.
  const layerIndices = new Set(plan.layers.map((layer) => layer.index));
  const lateSteps = plan.pruning
    .filter((step) => !layerIndices.has(step.beforeLayer))
    .sort((a, b) => a.beforeLayer - b.beforeLayer);
  let survivors = plan.layers.at(-1)?.tokens ?? plan.inputTokens;
  for (const step of lateSteps) if (step.beforeLayer >= plan.layers.length) survivors = step.keep;
  const rows = plan.logitsRows === 'last' ? Math.min(1, survivors) : survivors;
  const headOverhead = lateSteps.map((step) => ({ technique: step.technique, macs: step.scorer.macs }));
  const headMacs = rows * d * vocab + headOverhead.reduce((sum, item) => sum + item.macs, 0);
  const headParts: NonMatmulParts = {
    ...emptyParts(),
    layerNorm: 5 * rows * d, // ln_f
    bias: config.labels ? rows * vocab : 0, // a classifier's bias; tied LM heads have none
    compaction: lateSteps.reduce((sum, step) => sum + step.tokensBefore, 0),
  };
  const lmHead: LmHeadFlops = {
    rows,
    macs: headMacs,
    overhead: headOverhead,
    flops: 2 * headMacs,
    nonMatmul: sumParts(headParts),
    nonMatmulParts: headParts,
  };

  let macs = headMacs + embeddingMacs;
  let usefulMacs = headMacs + embeddingMacs;
  let parts = addParts(embeddingParts, headParts);
  let executedPairs = 0;
  let usefulPairs = 0;
  let densePairTotal = 0;
  for (const layer of layers) {
    macs += layer.macsTotal;
    usefulMacs += layer.usefulMacsTotal;
    parts = addParts(parts, layer.nonMatmulParts);
    executedPairs += layer.executedPairs;
    usefulPairs += layer.usefulPairs;
    densePairTotal += layer.densePairs;
  }
  const samples = plan.dropout ? plan.dropout.samples : 1;

  return {
    blockSize: plan.blockSize,
    inputTokens: plan.inputTokens,
    samples,
    techniques: [...plan.techniques],
    embedding,
    layers,
    lmHead,
    perSample: totals(macs, usefulMacs, parts, 1),
    total: totals(macs, usefulMacs, parts, samples),
    executedPairs,
    usefulPairs,
    densePairs: densePairTotal,
    attentionDensity: densePairTotal > 0 ? usefulPairs / densePairTotal : 1,
  };
}

/** The same model and input with no technique: dense key-block lists, no pruning, no dropout. */
export function densePlanFor(plan: ExecutionPlan): ExecutionPlan {
  const { config, inputTokens, blockSize } = plan;
  const bidirectionalPrefix = plan.layers[0]?.bidirectionalPrefix ?? 0;
  const keyBlocks = denseKeyBlocks(inputTokens, config.n_head, bidirectionalPrefix, blockSize);
  return {
    config,
    inputTokens,
    blockSize,
    layers: Array.from({ length: config.n_layer }, (_, index) => ({
      index,
      tokens: inputTokens,
      bidirectionalPrefix,
      tokenWindow: null,
      keyBlocks,
      captureAttention: false,
    })),
    pruning: [],
    dropout: null,
    logitsRows: plan.logitsRows,
    techniques: [],
  };
}

/** FlopReport of `densePlanFor(plan)`: the outline the panel draws next to the current bars. */
export function denseReference(plan: ExecutionPlan): FlopReport {
  return countFlops(densePlanFor(plan));
}
