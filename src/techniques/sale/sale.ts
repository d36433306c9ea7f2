import { ATTENTION_BLOCK, blockCount, tokenMask, type BlockEstimator, type EstimatorPass, type GpuFeatures, type KeyBlockLists, type KeySelection } from '../../engine/plan';
import type { EstimatorContext, ParamValues, Technique } from '../types';
import meansShader from './saleMeans.wgsl?raw';
import quantiseShader from './saleQuantise.wgsl?raw';
import regionShader from './saleRegion.wgsl?raw';
import selectShader from './saleSelect.wgsl?raw';

/**
 * SALE (ALGORITHM.md): per head, Q and K are centred on their means and quantised to int4 per token; the int4 logits
 * estimate every middle key block, and a block is kept when some row of its 32-row query block estimates a weight of
 * at least τ against the softmax mass of the reference region (sink, local band, diagonal), computed exactly.
 */
export type SaleMode = 'two-pass' | 'one-pass';

/** Query block of the estimate: two attention tiles. */
export const SALE_QUERY_BLOCK = 2 * ATTENTION_BLOCK;
/** Key blocks per segment of the middle region (S / Bk), and of the local band (W / Bk). */
const SEGMENT = 4;
/** Heads with τ below this keep every block (ALGORITHM.md step 7). */
const DENSE_TAU = 1e-5;
/** Key blocks the select pass's workgroup bit set holds (saleSelect.wgsl MAX_KEY_BLOCKS). */
const MAX_KEY_BLOCKS = 128;

const f = Math.fround;

export interface SaleShape {
  tokens: number;
  bidirectionalPrefix: number;
  /** The row of the model's token 0 (TokenMask.firstTokenRow): its key block is the sink. */
  firstTokenRow: number;
}

/**
 * Region of key block k for 32-row query block b (saleRegion.wgsl): 0 where no row of the block sees it, 1 for the
 * reference region (sink, a VLM's image blocks, diagonal, local band; forward band too for bidirectional rows), 2 for
 * the middle blocks the estimate decides.
 */
export function saleRegion(shape: SaleShape, queryBlock: number, k: number): 0 | 1 | 2 {
  const { tokens, bidirectionalPrefix: prefix } = shape;
  const keyBlocks = blockCount(tokens);
  const rowStart = queryBlock * SALE_QUERY_BLOCK;
  const rowEnd = Math.min(rowStart + SALE_QUERY_BLOCK, tokens);
  if (k * ATTENTION_BLOCK >= Math.max(rowEnd, prefix)) return 0;
  if (k === Math.floor(shape.firstTokenRow / ATTENTION_BLOCK)) return 1;
  if (prefix > 0 && prefix < tokens && k * ATTENTION_BLOCK < prefix) return 1;
  const firstDiag = 2 * queryBlock;
  const lastDiag = Math.min(firstDiag + 1, keyBlocks - 1);
  if (k >= firstDiag && k <= lastDiag) return 1;
  // The band counts back from lastDiag: the middle [1, m) is whole segments, at least 4 blocks left for the band.
  const middleEnd = 1 + SEGMENT * Math.max(0, Math.floor((lastDiag - SEGMENT) / SEGMENT));
  if (k >= Math.max(1, middleEnd) && k < firstDiag) return 1;
  if (rowStart < prefix && k > lastDiag && k <= lastDiag + SEGMENT) return 1;
  return 2;
}

/** Python / WGSL `round`: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

interface Quantised {
  /** int4 values [T, H, d]. */
  q: Int8Array;
  k: Int8Array;
  qScale: Float32Array;
  kScale: Float32Array;
  c: Float32Array;
  /** Per head q̄ then k̄, [H, 2d]. */
  means: Float32Array;
}

/** Passes 1–2 on the CPU, float32 at every step the WGSL takes in f32, in its order. */
function quantise(qkv: Float32Array, tokens: number, heads: number, d: number): Quantised {
  const channels = heads * d;
  const means = new Float32Array(heads * 2 * d);
  for (let h = 0; h < heads; h++) {
    for (let ch = 0; ch < d; ch++) {
      let qSum = 0;
      let kSum = 0;
      for (let t = 0; t < tokens; t++) {
        const row = t * 3 * channels + h * d + ch;
        qSum = f(qSum + qkv[row]!);
        kSum = f(kSum + qkv[row + channels]!);
      }
      means[h * 2 * d + ch] = f(qSum / tokens);
      means[h * 2 * d + d + ch] = f(kSum / tokens);
    }
  }
  const rows = tokens * heads;
  const out: Quantised = {
    q: new Int8Array(rows * d), k: new Int8Array(rows * d), qScale: new Float32Array(rows), kScale: new Float32Array(rows), c: new Float32Array(rows), means,
  };
  const qc = new Float32Array(d);
  const kc = new Float32Array(d);
  for (let t = 0; t < tokens; t++) {
    for (let h = 0; h < heads; h++) {
      const base = t * 3 * channels + h * d;
      const m = h * 2 * d;
      let qMax = 0;
      let kMax = 0;
      let c = 0;
      for (let ch = 0; ch < d; ch++) {
        qc[ch] = f(qkv[base + ch]! - means[m + ch]!);
        kc[ch] = f(qkv[base + channels + ch]! - means[m + d + ch]!);
        qMax = Math.max(qMax, Math.abs(qc[ch]!));
        kMax = Math.max(kMax, Math.abs(kc[ch]!));
        c = f(c + f(means[m + ch]! * kc[ch]!));
      }
      // The authors' order: r = 7 / max|x|, x̂ = round(x · r), s = 1 / r.
      const qr = f(7 / qMax);
      const kr = f(7 / kMax);
      const qs = qMax === 0 ? 0 : f(1 / qr);
      const ks = kMax === 0 ? 0 : f(1 / kr);
      const slot = t * heads + h;
      out.qScale[slot] = qs;
      out.kScale[slot] = ks;
      out.c[slot] = c;
      for (let ch = 0; ch < d; ch++) {
        out.q[slot * d + ch] = qs === 0 ? 0 : Math.min(7, Math.max(-7, roundHalfEven(f(qc[ch]! * qr))));
        out.k[slot * d + ch] = ks === 0 ? 0 : Math.min(7, Math.max(-7, roundHalfEven(f(kc[ch]! * kr))));
      }
    }
  }
  return out;
}

export interface SaleSettings {
  /** τ per head. */
  tau: readonly number[];
  mode: SaleMode;
}

/**
 * The CPU twin of the three passes: per head, per 32-row query block, the reference region and the middle blocks
 * kept, each 16-row tile's list being those within its planned list (ascending).
 */
export function saleSelect(
  qkv: Float32Array, shape: SaleShape, heads: number, headDim: number, allowed: KeyBlockLists, settings: SaleSettings,
): KeySelection {
  const { tokens, bidirectionalPrefix: prefix } = shape;
  const d = headDim;
  const channels = heads * d;
  const keyBlocks = blockCount(tokens);
  const queryBlocks = Math.ceil(tokens / SALE_QUERY_BLOCK);
  const quant = quantise(qkv, tokens, heads, d);
  const lambda = f(1 / Math.sqrt(d));
  const sqrtD = f(Math.sqrt(d));
  const visible = (i: number, j: number) => j <= i || j < prefix;
  const out: number[][][] = allowed.map((lists) => lists.map(() => []));
  for (let h = 0; h < heads; h++) {
    const tau = f(settings.tau[h]!);
    const dense = tau < DENSE_TAU;
    const m0 = h * 2 * d;
    const exact = (i: number, j: number) => {
      let acc = 0;
      for (let ch = 0; ch < d; ch++) {
        const k = f(qkv[j * 3 * channels + channels + h * d + ch]! - quant.means[m0 + d + ch]!);
        acc = f(acc + f(qkv[i * 3 * channels + h * d + ch]! * k));
      }
      return acc;
    };
    const estimated = (i: number, j: number) => {
      const qs = (i * heads + h) * d;
      const ks = (j * heads + h) * d;
      let acc = 0;
      for (let ch = 0; ch < d; ch++) acc += quant.q[qs + ch]! * quant.k[ks + ch]!;
      const scale = f(quant.qScale[i * heads + h]! * quant.kScale[j * heads + h]!);
      return f(f(scale * acc) + quant.c[j * heads + h]!);
    };
    const keysOf = (k: number) => {
      const keys: number[] = [];
      for (let j = k * ATTENTION_BLOCK; j < Math.min((k + 1) * ATTENTION_BLOCK, tokens); j++) keys.push(j);
      return keys;
    };
    for (let b = 0; b < queryBlocks; b++) {
      const region = Array.from({ length: keyBlocks }, (_, k) => saleRegion(shape, b, k));
      const rows: number[] = [];
      for (let i = b * SALE_QUERY_BLOCK; i < Math.min((b + 1) * SALE_QUERY_BLOCK, tokens); i++) rows.push(i);
      const m = rows.map(() => -3.0e38);
      const l = rows.map(() => 0);
      rows.forEach((i, r) => {
        for (let k = 0; k < keyBlocks; k++) if (region[k] === 1) for (const j of keysOf(k)) if (visible(i, j)) m[r] = Math.max(m[r]!, exact(i, j));
        let sum = 0;
        for (let k = 0; k < keyBlocks; k++) if (region[k] === 1) for (const j of keysOf(k)) if (visible(i, j)) sum = f(sum + f(Math.exp(f(f(exact(i, j) - m[r]!) * lambda))));
        l[r] = sum;
      });
      const threshold = (r: number) => f(m[r]! + f(f(Math.log(f(tau * l[r]!))) * sqrtD));
      const t = rows.map((_, r) => threshold(r));
      const kept = new Set<number>();
      const middle = region.flatMap((kind, k) => (kind === 2 ? [k] : []));
      for (let s = 0; s < middle.length; s += SEGMENT) {
        const segment = middle.slice(s, s + SEGMENT);
        for (const k of segment) {
          if (dense || rows.some((i, r) => keysOf(k).some((j) => visible(i, j) && estimated(i, j) > t[r]!))) kept.add(k);
        }
        if (settings.mode === 'one-pass' && segment.length === SEGMENT && !dense) {
          rows.forEach((i, r) => {
            for (const k of segment) {
              if (!kept.has(k)) continue;
              let blockMax = -3.0e38;
              for (const j of keysOf(k)) if (visible(i, j)) blockMax = Math.max(blockMax, exact(i, j));
              const mNew = Math.max(m[r]!, blockMax);
              let sum = f(l[r]! * f(Math.exp(f(f(m[r]! - mNew) * lambda))));
              for (const j of keysOf(k)) if (visible(i, j)) sum = f(sum + f(Math.exp(f(f(exact(i, j) - mNew) * lambda))));
              l[r] = sum;
              m[r] = mNew;
            }
            t[r] = threshold(r);
          });
        }
      }
      for (const tile of [2 * b, 2 * b + 1]) {
        if (tile >= keyBlocks) continue;
        out[h]![tile] = allowed[h]![tile]!.filter((k) => region[k] === 1 || (region[k] === 2 && kept.has(k)));
      }
    }
  }
  return { keyBlocks: out, keyMask: null };
}

/** The reference region of every tile within its planned list: what SALE computes whatever the estimate says. */
export function saleForced(shape: SaleShape, allowed: KeyBlockLists, tau: readonly number[]): KeyBlockLists {
  // A dense head (τ < 1e-5) computes every block: all of them count as reference region.
  return allowed.map((lists, h) => (f(tau[h]!) < DENSE_TAU ? lists : lists.map((keys, tile) => keys.filter((k) => saleRegion(shape, Math.floor(tile / 2), k) === 1))));
}

/** The estimator's float and int4 work by formula (ALGORITHM.md; one-pass's updates over kept blocks are not counted: they depend on the choice). */
export function saleCost(shape: SaleShape, heads: number, headDim: number, tau: readonly number[]): { macs: number; intMacs: number } {
  const { tokens, bidirectionalPrefix: prefix } = shape;
  const d = headDim;
  const keyBlocks = blockCount(tokens);
  let referencePairs = 0;
  let middlePairs = 0;
  for (let b = 0; b < Math.ceil(tokens / SALE_QUERY_BLOCK); b++) {
    for (let k = 0; k < keyBlocks; k++) {
      const region = saleRegion(shape, b, k);
      if (region === 0) continue;
      let pairs = 0;
      for (let i = b * SALE_QUERY_BLOCK; i < Math.min((b + 1) * SALE_QUERY_BLOCK, tokens); i++) {
        const end = Math.min((k + 1) * ATTENTION_BLOCK, tokens, Math.max(i + 1, prefix));
        pairs += Math.max(0, end - k * ATTENTION_BLOCK);
      }
      if (region === 1) referencePairs += pairs;
      else middlePairs += pairs;
    }
  }
  const estimatedHeads = tau.filter((t) => f(t) >= DENSE_TAU).length;
  // Means (2·T·d), centring and scaling Q′, K′ (2·T·d), c_j (T·d) per head; exact logits twice (max, then sum).
  return { macs: heads * (5 * tokens * d + 2 * d * referencePairs), intMacs: estimatedHeads * d * middlePairs };
}

/** `dot_i4`: the hardware packed dot product where the adapter has it, else the same integers by hand. */
function dotFunction(features: GpuFeatures): string {
  if (features.wgslLanguageFeatures.has('packed_4x8_integer_dot_product')) {
    return 'fn dot_i4(a: u32, b: u32) -> i32 { return dot4I8Packed(a, b); }\n';
  }
  return [
    'fn dot_i4(a: u32, b: u32) -> i32 {',
    '  var acc = 0i;',
    '  for (var lane = 0u; lane < 4u; lane++) {',
    '    acc += extractBits(bitcast<i32>(a), 8u * lane, 8u) * extractBits(bitcast<i32>(b), 8u * lane, 8u);',
    '  }',
    '  return acc;',
    '}',
    '',
  ].join('\n');
}

/** The three passes for `tokens` tokens and `heads` heads; `mode` picks the threshold the select pass follows. */
export function salePasses(tokens: number, heads: number, mode: SaleMode): EstimatorPass[] {
  return [
    { label: 'means', source: () => meansShader, constants: {}, bindings: ['qkv', 'shape', { scratch: 'scales' }], workgroups: [heads, 1] },
    {
      label: 'int4 quantisation', source: () => quantiseShader, constants: {},
      bindings: ['qkv', 'shape', { scratch: 'packed' }, { scratch: 'scales' }], workgroups: [tokens, heads],
    },
    {
      label: 'select',
      source: (features) => `${regionShader}\n${dotFunction(features)}\n${selectShader}`,
      constants: { ONE_PASS: mode === 'one-pass' ? 1 : 0 },
      bindings: ['qkv', 'allowedCounts', 'allowedIndices', 'counts', 'indices', 'shape', { scratch: 'packed' }, { scratch: 'scales' }, { data: 'thresholds' }],
      workgroups: [Math.ceil(tokens / SALE_QUERY_BLOCK), heads],
    },
  ];
}

function tauOf(params: ParamValues, heads: number): number[] {
  return Array.from({ length: heads }, () => Number(params['tau']));
}

function estimateKeyBlocks(context: EstimatorContext, params: ParamValues): BlockEstimator | null {
  const { config, tokens } = context;
  if (tokens <= Number(params['denseBelow'])) return null;
  const keyBlocks = blockCount(tokens);
  if (keyBlocks > MAX_KEY_BLOCKS) throw new Error(`SALE estimates at most ${MAX_KEY_BLOCKS * ATTENTION_BLOCK} tokens, not ${tokens}`);
  const heads = config.n_head;
  const d = config.n_embd / heads;
  const mode: SaleMode = params['mode'] === 'one-pass' ? 'one-pass' : 'two-pass';
  const shape: SaleShape = { tokens, bidirectionalPrefix: context.bidirectionalPrefix, firstTokenRow: tokenMask(config, { ...context, tokenWindow: null }).firstTokenRow };
  const tau = tauOf(params, heads);
  const words = Math.ceil(d / 4);
  return {
    technique: 'sale',
    passes: salePasses(tokens, heads, mode),
    scratch: {
      packed: { bytes: 2 * tokens * heads * words * 4, scope: 'layer' },
      scales: { bytes: (3 * tokens * heads + 2 * heads * d) * 4, scope: 'layer' },
    },
    data: { thresholds: Float32Array.from([1 / Math.sqrt(d), Math.sqrt(d), ...tau]) },
    keyMask: 'none',
    cost: saleCost(shape, heads, d, tau),
    forced: saleForced(shape, context.planned, tau),
    reference: (qkv, allowed) => saleSelect(qkv, shape, heads, d, allowed, { tau, mode }),
  };
}

export const sale: Technique = {
  id: 'sale',
  label: 'SALE',
  family: 'sparse-attention',
  summary:
    'Estimates every attention tile from int4-quantised, mean-centred Q and K on the GPU and computes only the tiles whose estimated weight reaches τ, ' +
    'plus the sink, the local band and the diagonal, which it always computes.',
  paper: {
    title: 'SALE: Low-bit Estimation for Efficient Sparse Attention in Long-context LLM Prefilling',
    authors: 'Xiaodong Ji, Hailin Zhang, Fangcheng Fu, Bin Cui',
    venue: 'arXiv 2505.24179, 2025',
    url: 'https://arxiv.org/abs/2505.24179',
  },
  spec: '../shared/specs/sparse-attention.md §1',
  params: [
    {
      key: 'tau', label: 'Threshold τ', kind: 'float', min: 0, max: 0.05, step: 0.001, default: 0.004,
      help: 'A tile is computed when some query of its block is estimated to give it at least τ of the attention mass of the always-computed tiles (0 computes every tile).',
    },
    {
      key: 'mode', label: 'Threshold', kind: 'choice', default: 'two-pass',
      options: [
        { value: 'two-pass', label: 'two-pass (fixed)' },
        { value: 'one-pass', label: 'one-pass (running)' },
      ],
      help: 'Two-pass fixes each row\'s threshold from the always-computed tiles; one-pass also adds the tiles kept so far before each segment of 4 blocks.',
    },
    {
      key: 'denseBelow', label: 'Dense up to', kind: 'int', min: 0, max: 1024, step: 1, default: 64,
      help: 'Inputs of at most this many tokens run dense attention (the authors\' cutoff is 1024, lowered for our short inputs).',
    },
  ],
  estimateKeyBlocks,
};
