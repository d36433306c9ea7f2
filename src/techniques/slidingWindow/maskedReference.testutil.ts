/**
 * A dense forward pass whose attention reads an explicit token mask, written apart from the engine's attention kernel
 * and its CPU twin: the reference the sliding window's token-exact A-shape is tested against. The rows are in the
 * order the caller gives, so a test can state the mask in the model's own order (a ViT's CLS first, as in Hugging
 * Face) instead of the engine's row order.
 */
import * as cpu from '../../engine/cpu/kernels';
import type { TransformerConfig } from '../../models/config';
import type { TransformerWeights } from '../../models/modelWeights';

/** Whether query row `query` may attend to key row `key`. */
export type TokenMaskRule = (query: number, key: number) => boolean;

export interface MaskedForwardResult {
  /** [rows, vocab], every row. */
  logits: Float32Array;
  /** Per layer, [heads, rows, rows] softmax probabilities (0 where masked). */
  probs: Float32Array[];
}

/** Runs every layer on `embedded` ([rows, n_embd], already embedded) with attention restricted to `visible`. */
export function maskedForward(config: TransformerConfig, weights: TransformerWeights, embedded: Float32Array, visible: TokenMaskRule): MaskedForwardResult {
  const { n_embd: channels, n_head: heads, n_inner: inner, vocab_size: vocab, layer_norm_epsilon: epsilon, activation } = config;
  const rows = embedded.length / channels;
  const allowed = Array.from({ length: rows }, (_, i) => Array.from({ length: rows }, (_, j) => j).filter((j) => visible(i, j)));
  let x = embedded;
  const probs: Float32Array[] = [];
  for (const w of weights.layers) {
    const normed = cpu.layerNorm(x, w.ln1Weight, w.ln1Bias, rows, channels, 0, epsilon);
    const qkv = cpu.matmul(normed, w.attnQkvWeight, w.attnQkvBias, rows, 3 * channels, channels);
    const attended = maskedAttention(qkv, allowed, rows, heads, channels / heads);
    probs.push(attended.probs);
    x = cpu.matmul(attended.out, w.attnProjWeight, w.attnProjBias, rows, channels, channels, { residual: x });
    const normed2 = cpu.layerNorm(x, w.ln2Weight, w.ln2Bias, rows, channels, 0, epsilon);
    const hidden = cpu.matmul(normed2, w.mlpFcWeight, w.mlpFcBias, rows, inner, channels, { activation });
    x = cpu.matmul(hidden, w.mlpProjWeight, w.mlpProjBias, rows, channels, inner, { residual: x });
  }
  const final = cpu.layerNorm(x, weights.lnFWeight, weights.lnFBias, rows, channels, 0, epsilon);
  return { logits: cpu.lmHead(final, weights.headWeight, rows, vocab, channels, weights.headBias ?? undefined), probs };
}

/** Plain softmax attention over each query's allowed keys, in float64. */
function maskedAttention(qkv: Float32Array, allowed: number[][], rows: number, heads: number, headDim: number): { out: Float32Array; probs: Float32Array } {
  const channels = heads * headDim;
  const scale = 1 / Math.sqrt(headDim);
  const out = new Float32Array(rows * channels);
  const probs = new Float32Array(heads * rows * rows);
  for (let h = 0; h < heads; h++) {
    const q = (i: number, d: number) => qkv[i * 3 * channels + h * headDim + d]!;
    const k = (j: number, d: number) => qkv[j * 3 * channels + channels + h * headDim + d]!;
    const v = (j: number, d: number) => qkv[j * 3 * channels + 2 * channels + h * headDim + d]!;
    for (let i = 0; i < rows; i++) {
      const keys = allowed[i]!;
      const scores = keys.map((j) => {
        let s = 0;
        for (let d = 0; d < headDim; d++) s += q(i, d) * k(j, d);
        return s * scale;
      });
      const max = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      keys.forEach((j, n) => {
        const p = exps[n]! / sum;
        probs[(h * rows + i) * rows + j] = p;
        for (let d = 0; d < headDim; d++) out[i * channels + h * headDim + d]! += p * v(j, d);
      });
    }
  }
  return { out, probs };
}

/** StreamingLLM's A-shape stated directly: key j is one of the first `sinks` tokens or closer than `window` to i. */
export function aShape(sinks: number, window: number): (query: number, key: number) => boolean {
  return (query, key) => key < sinks || Math.abs(query - key) < window;
}
