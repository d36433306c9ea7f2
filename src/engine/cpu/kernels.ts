/**
 * CPU twins of the WGSL kernels in shaders/: the same arguments, the same arithmetic order where it matters, plain
 * loops. The GPU conformance tests compare each kernel with its twin, and cpuForward composes them into a whole model.
 */
import { ATTENTION_BLOCK, blockCount, keyVisible, type KeyBlockLists, type TokenMask } from '../plan';
import { dropoutFactor, type DropoutStream } from '../random';

export interface CpuDropout extends DropoutStream {
  rate: number;
}

/** Twin of shaders/embed.wgsl, which writes these rows from `rowOffset` on (the mask hash uses that global index). */
export function embed(ids: ArrayLike<number>, wte: Float32Array, wpe: Float32Array, channels: number, dropout?: CpuDropout, rowOffset = 0): Float32Array {
  const out = new Float32Array(ids.length * channels);
  for (let t = 0; t < ids.length; t++) {
    for (let c = 0; c < channels; c++) {
      const index = t * channels + c;
      let value = wte[ids[t]! * channels + c]! + wpe[index]!;
      if (dropout) value *= dropoutFactor(dropout, dropout.rate, 0, rowOffset * channels + index);
      out[index] = value;
    }
  }
  return out;
}

export function layerNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, rows: number, channels: number, rowOffset: number, epsilon: number): Float32Array {
  const out = new Float32Array(rows * channels);
  for (let r = 0; r < rows; r++) {
    const src = (r + rowOffset) * channels;
    let mean = 0;
    for (let c = 0; c < channels; c++) mean += x[src + c]!;
    mean /= channels;
    let variance = 0;
    for (let c = 0; c < channels; c++) variance += (x[src + c]! - mean) ** 2;
    variance /= channels;
    const invStd = 1 / Math.sqrt(variance + epsilon);
    for (let c = 0; c < channels; c++) out[r * channels + c] = (x[src + c]! - mean) * invStd * gamma[c]! + beta[c]!;
  }
  return out;
}

export function geluTanh(x: number): number {
  const inner = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  return 0.5 * x * (1 + Math.tanh(inner));
}

/** Twin of erf_approx in shaders/matmul.wgsl (Abramowitz & Stegun 7.1.26). */
export function erfApprox(x: number): number {
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return Math.sign(x) * (1 - poly * Math.exp(-a * a));
}

export function geluErf(x: number): number {
  return 0.5 * x * (1 + erfApprox(x * Math.SQRT1_2));
}

export interface MatmulOptions {
  activation?: 'gelu-tanh' | 'gelu-erf';
  residual?: Float32Array;
  dropout?: CpuDropout;
}

/** out[M, N] = [residual +] [dropout(] [activation(] a[M,K]·w[K,N] + bias [)] [)] with w in Conv1D layout [in, out]. */
export function matmul(a: Float32Array, w: Float32Array, bias: Float32Array, m: number, n: number, k: number, options: MatmulOptions = {}): Float32Array {
  const out = new Float32Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      let sum = 0;
      for (let i = 0; i < k; i++) sum += a[r * k + i]! * w[i * n + c]!;
      let v = sum + bias[c]!;
      if (options.activation === 'gelu-tanh') v = geluTanh(v);
      else if (options.activation === 'gelu-erf') v = geluErf(v);
      const index = r * n + c;
      if (options.residual) {
        if (options.dropout) v *= dropoutFactor(options.dropout, options.dropout.rate, 0, index);
        v += options.residual[index]!;
      }
      out[index] = v;
    }
  }
  return out;
}

/** logits[M, V] = x[M, C] · w[V, C]ᵀ (+ bias): GPT-2's tied LM head, or a classifier. */
export function lmHead(x: Float32Array, wte: Float32Array, m: number, vocab: number, channels: number, bias?: Float32Array): Float32Array {
  const out = new Float32Array(m * vocab);
  for (let r = 0; r < m; r++) {
    for (let v = 0; v < vocab; v++) {
      let sum = bias?.[v] ?? 0;
      for (let c = 0; c < channels; c++) sum += x[r * channels + c]! * wte[v * channels + c]!;
      out[r * vocab + v] = sum;
    }
  }
  return out;
}

export interface PatchGeometry {
  channels: number;
  patch: number;
  grid: number;
  imageChannels: number;
}

/** Twin of shaders/patch_embed.wgsl: one row per patch, then the CLS row when `cls` is given, each plus its position embedding. */
export function patchEmbed(
  pixels: Float32Array,
  weight: Float32Array,
  bias: Float32Array,
  cls: Float32Array | null,
  positions: Float32Array,
  { channels, patch, grid, imageChannels }: PatchGeometry,
  dropout?: CpuDropout,
): Float32Array {
  const side = grid * patch;
  const patches = grid * grid;
  const rows = patches + (cls ? 1 : 0);
  const out = new Float32Array(rows * channels);
  for (let row = 0; row < rows; row++) {
    for (let c = 0; c < channels; c++) {
      let value: number;
      if (row === patches) value = cls![c]!;
      else {
        const top = Math.floor(row / grid) * patch;
        const left = (row % grid) * patch;
        value = bias[c]!;
        for (let ch = 0; ch < imageChannels; ch++)
          for (let dy = 0; dy < patch; dy++)
            for (let dx = 0; dx < patch; dx++)
              value += pixels[(ch * side + top + dy) * side + left + dx]! * weight[((ch * patch + dy) * patch + dx) * channels + c]!;
      }
      const index = row * channels + c;
      value += positions[index]!;
      if (dropout) value *= dropoutFactor(dropout, dropout.rate, 0, index);
      out[index] = value;
    }
  }
  return out;
}

export interface AttentionOutput {
  out: Float32Array;
  /** [heads, tokens, tokens]: probabilities before dropout, 0 where masked or outside the listed tiles. */
  probs: Float32Array;
}

/**
 * Attention over GPT-2's fused qkv rows, reading only the listed key blocks of each (head, query block), where query
 * i sees key j when the mask does (`keyVisible`). A query that sees no key gets output 0 and probabilities 0.
 */
export function attention(qkv: Float32Array, lists: KeyBlockLists, mask: TokenMask, heads: number, headDim: number, dropout?: CpuDropout): AttentionOutput {
  const { tokens } = mask;
  const channels = heads * headDim;
  const row = 3 * channels;
  const scale = 1 / Math.sqrt(headDim);
  const out = new Float32Array(tokens * channels);
  const probs = new Float32Array(heads * tokens * tokens);
  const queryBlocks = blockCount(tokens);
  for (let h = 0; h < heads; h++) {
    for (let q = 0; q < queryBlocks; q++) {
      const keys = lists[h]![q]!.flatMap((kb) => {
        const start = kb * ATTENTION_BLOCK;
        return Array.from({ length: Math.max(0, Math.min(start + ATTENTION_BLOCK, tokens) - start) }, (_, j) => start + j);
      });
      for (let i = q * ATTENTION_BLOCK; i < Math.min((q + 1) * ATTENTION_BLOCK, tokens); i++) {
        const visible = keys.filter((j) => keyVisible(mask, i, j, h));
        const scores = visible.map((j) => {
          let s = 0;
          for (let d = 0; d < headDim; d++) s += qkv[i * row + h * headDim + d]! * scale * qkv[j * row + channels + h * headDim + d]!;
          return s;
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const sum = exps.reduce((acc, e) => acc + e, 0);
        visible.forEach((j, n) => {
          const p = exps[n]! / sum;
          probs[(h * tokens + i) * tokens + j] = p;
          const weight = dropout ? p * dropoutFactor(dropout, dropout.rate, h, i * tokens + j) : p;
          for (let d = 0; d < headDim; d++) out[i * channels + h * headDim + d]! += weight * qkv[j * row + 2 * channels + h * headDim + d]!;
        });
      }
    }
  }
  return { out, probs };
}

/** 1 for the `keep` highest scores, ties to the lower index. */
export function selectKeep(scores: Float32Array, keep: number): Uint32Array {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const mask = new Uint32Array(scores.length);
  for (const i of order.slice(0, keep)) mask[i] = 1;
  return mask;
}

export function exclusivePrefixSum(values: Uint32Array): Uint32Array {
  const out = new Uint32Array(values.length);
  let running = 0;
  values.forEach((v, i) => {
    out[i] = running;
    running += v;
  });
  return out;
}

export function gatherRows(keepMask: Uint32Array, x: Float32Array, positions: Int32Array, channels: number): { rows: Float32Array; positions: Int32Array } {
  const kept = Array.from(keepMask.keys()).filter((i) => keepMask[i] === 1);
  const rows = new Float32Array(kept.length * channels);
  kept.forEach((source, target) => rows.set(x.subarray(source * channels, (source + 1) * channels), target * channels));
  return { rows, positions: Int32Array.from(kept, (i) => positions[i]!) };
}
