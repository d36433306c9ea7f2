import { samplesDiffer } from '../engine/dropoutSites';
import { layerSteps, tokensAfterLayer, type MatmulMacs, type NonMatmulParts } from '../engine/layerSteps';
import { allHeads, denseKeyBlocks, type ExecutionPlan, type LayerPlan } from '../engine/plan';
import { densePairs, type PairCount } from './pairs';

/** Tooltip text for the FLOPs panel: which convention every number in a FlopReport follows. */
export const FLOP_CONVENTION =
  'FLOPs = 2 × MACs for matmul work (PyTorch FlopCounterMode convention). ' +
  'LayerNorm, bias, residual add, GELU, softmax, dropout masks and token compaction are a separate ' +
  '"non-matmul" bucket (DeepSpeed rules: LayerNorm 5·numel, the others numel): drop it to compare with fvcore, keep it to compare with DeepSpeed.';

export type { MatmulMacs, NonMatmulParts } from '../engine/layerSteps';
export { countPairs, densePairs, tilePairs, type PairCount } from './pairs';

export interface OverheadItem {
  technique: string;
  /** All its multiply-adds, float and integer. */
  macs: number;
  /** The low-bit integer share of `macs`. */
  intMacs: number;
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
  /** Executed pairs the mask allows (key ≤ query, or both inside the bidirectional prefix), summed over heads. */
  usefulPairs: number;
  /** What dense attention on this layer's tokens would need: H·n(n+1)/2 when causal, H·n² when bidirectional. */
  densePairs: number;
  /** H·n²: the unmasked square that PyTorch's sdpa_flop_count assumes. */
  squarePairs: number;
  /** usefulPairs / densePairs (1 for dense attention). */
  attentionDensity: number;
  /** Overhead broken down by technique (sums to macs.overhead + macs.overheadInt). */
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
  /** rows·d·V (V: vocabulary or a classifier's labels). */
  macs: number;
  flops: number;
  /** ln_f on the logits rows (5·rows·d) and a classifier's bias (rows·V). */
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
  /** Of Monte-Carlo sample 0 (every sample, unless a 'layer'-kind dropout site makes their work differ). */
  layers: LayerFlops[];
  lmHead: LmHeadFlops;
  /** One forward pass: sample 0. */
  perSample: FlopTotals;
  /** MACs of each Monte-Carlo sample. */
  sampleMacs: number[];
  /** Every sample's work summed. */
  total: FlopTotals;
  executedPairs: number;
  usefulPairs: number;
  densePairs: number;
  /** Σ usefulPairs / Σ densePairs over layers (on each layer's own tokens). */
  attentionDensity: number;
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

function emptyMacs(): MatmulMacs {
  return { qkv: 0, attnScores: 0, attnValues: 0, attnProj: 0, mlpUp: 0, mlpDown: 0, overhead: 0, overheadInt: 0 };
}

/** Sums the costs of the steps `layer` runs in `sample` (src/engine/layerSteps.ts). */
function countLayer(plan: ExecutionPlan, layer: LayerPlan, sample: number): LayerFlops {
  const { config } = plan;
  const n = layer.tokens;
  const heads = config.n_head;
  const dh = config.n_embd / heads;
  const macs = emptyMacs();
  let nonMatmulParts = emptyParts();
  const pairs: PairCount = { executed: 0, useful: 0 };
  const overhead: OverheadItem[] = [];
  for (const step of layerSteps(plan, layer, sample)) {
    const cost = step.cost();
    for (const [part, value] of Object.entries(cost.macs ?? {}) as [keyof MatmulMacs, number][]) macs[part] += value;
    nonMatmulParts = addParts(nonMatmulParts, { ...emptyParts(), ...cost.nonMatmul });
    if (cost.pairs) {
      pairs.executed += cost.pairs.executed;
      pairs.useful += cost.pairs.useful;
    }
    if (cost.technique) {
      const intMacs = cost.macs?.overheadInt ?? 0;
      overhead.push({ technique: cost.technique, macs: (cost.macs?.overhead ?? 0) + intMacs, intMacs });
    }
  }
  // Integer MACs count in the totals, as the papers' "(F_est + F_sparse) / F_dense" does; `overheadInt` keeps them apart.
  const macsTotal = macs.qkv + macs.attnScores + macs.attnValues + macs.attnProj + macs.mlpUp + macs.mlpDown + macs.overhead + macs.overheadInt;
  const usefulMacsTotal = macsTotal - 2 * (pairs.executed - pairs.useful) * dh;
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

  const patches = config.image ? config.image.grid ** 2 : 0;
  const embeddingMacs = config.image ? patches * config.image.channels * config.image.patch ** 2 * d : 0;
  const embeddingDropout = plan.dropout?.sites.some((rule) => rule.site === 'embedding' && rule.rate > 0) ?? false;
  const embeddingParts: NonMatmulParts = {
    ...emptyParts(),
    bias: patches * d, // patch projection bias
    residual: plan.inputTokens * d, // + position embedding, on every row
    dropout: embeddingDropout ? plan.inputTokens * d : 0,
  };
  const embedding: EmbeddingFlops = {
    tokens: plan.inputTokens,
    macs: embeddingMacs,
    nonMatmul: sumParts(embeddingParts),
    nonMatmulParts: embeddingParts,
  };

  const lastLayer = plan.layers.at(-1);
  const survivors = lastLayer ? tokensAfterLayer(plan, lastLayer) : plan.inputTokens;
  const rows = plan.logitsRows === 'last' ? Math.min(1, survivors) : survivors;
  const headMacs = rows * d * vocab;
  const headParts: NonMatmulParts = {
    ...emptyParts(),
    layerNorm: 5 * rows * d, // ln_f
    bias: config.labels ? rows * vocab : 0, // a classifier's bias; tied LM heads have none
  };
  const lmHead: LmHeadFlops = { rows, macs: headMacs, flops: 2 * headMacs, nonMatmul: sumParts(headParts), nonMatmulParts: headParts };

  const samples = plan.dropout ? plan.dropout.samples : 1;
  // Without per-sample decisions every sample runs the same steps: count one and scale.
  const counted = samplesDiffer(plan.dropout) ? samples : 1;
  const sampleTotals = Array.from({ length: counted }, (_, sample) => {
    const layers = plan.layers.map((layer) => countLayer(plan, layer, sample));
    let macs = headMacs + embeddingMacs;
    let usefulMacs = headMacs + embeddingMacs;
    let parts = addParts(embeddingParts, headParts);
    for (const layer of layers) {
      macs += layer.macsTotal;
      usefulMacs += layer.usefulMacsTotal;
      parts = addParts(parts, layer.nonMatmulParts);
    }
    return { layers, totals: totals(macs, usefulMacs, parts, 1) };
  });
  const [first] = sampleTotals;
  const layers = first!.layers;
  const perSample = first!.totals;
  const total = counted === 1 ? totals(perSample.macs, perSample.usefulMacs, perSample.nonMatmulParts, samples) : sumTotals(sampleTotals.map((s) => s.totals));

  const executedPairs = layers.reduce((sum, layer) => sum + layer.executedPairs, 0);
  const usefulPairs = layers.reduce((sum, layer) => sum + layer.usefulPairs, 0);
  const densePairTotal = layers.reduce((sum, layer) => sum + layer.densePairs, 0);
  return {
    blockSize: plan.blockSize,
    inputTokens: plan.inputTokens,
    samples,
    techniques: [...plan.techniques],
    embedding,
    layers,
    lmHead,
    perSample,
    sampleMacs: counted === 1 ? Array.from({ length: samples }, () => perSample.macs) : sampleTotals.map((s) => s.totals.macs),
    total,
    executedPairs,
    usefulPairs,
    densePairs: densePairTotal,
    attentionDensity: densePairTotal > 0 ? usefulPairs / densePairTotal : 1,
  };
}

function sumTotals(all: FlopTotals[]): FlopTotals {
  const parts = all.reduce((sum, t) => addParts(sum, t.nonMatmulParts), emptyParts());
  return totals(
    all.reduce((sum, t) => sum + t.macs, 0),
    all.reduce((sum, t) => sum + t.usefulMacs, 0),
    parts,
    1,
  );
}

/** The same model and input with no technique: dense key-block lists, every head, no reduction, no dropout. */
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
      heads: allHeads(config),
      keyBlocks,
      captureAttention: false,
      estimator: null,
      selection: null,
    })),
    reductions: [],
    dropout: null,
    logitsRows: plan.logitsRows,
    techniques: [],
  };
}

/** FlopReport of `densePlanFor(plan)`: the outline the panel draws next to the current bars. */
export function denseReference(plan: ExecutionPlan): FlopReport {
  return countFlops(densePlanFor(plan));
}
