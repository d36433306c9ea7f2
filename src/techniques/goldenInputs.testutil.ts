/**
 * The inputs of the sparse-attention golden fixtures (src/techniques/__fixtures__/README.md), as the PyTorch
 * references in tools/sparse_reference draw and store them.
 */
import { readFileSync } from 'node:fs';

export function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** qkv rows [tokens, 3C]: value n = t·3C + c is lowbias32((n + seed·0x9E3779B9) mod 2³²) mapped to [−1, 1), q × qScale. */
export function randomQkv(seed: number, tokens: number, heads: number, headDim: number, qScale = 1): Float32Array {
  const channels = heads * headDim;
  const out = new Float32Array(tokens * 3 * channels);
  const offset = Math.imul(seed, 0x9e3779b9) >>> 0;
  for (let n = 0; n < out.length; n++) {
    const h = lowbias32((n + offset) >>> 0);
    const value = Math.fround(((h >>> 8) / 2 ** 24) * 2 - 1);
    out[n] = n % (3 * channels) < channels ? Math.fround(value * qScale) : value;
  }
  return out;
}

/** recall-lm's c_attn output of every layer on the fixtures' needle prompt (make_inputs.py). */
export function recallLmQkv(): { layers: Float32Array[]; tokens: number; heads: number; headDim: number } {
  const meta = JSON.parse(readFileSync('src/techniques/__fixtures__/recall-lm-needle-qkv.json', 'utf8')) as { tokens: number; layers: number; heads: number; headDim: number };
  const bytes = readFileSync('src/techniques/__fixtures__/recall-lm-needle-qkv.bin');
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const size = meta.tokens * 3 * meta.heads * meta.headDim;
  return { tokens: meta.tokens, heads: meta.heads, headDim: meta.headDim, layers: Array.from({ length: meta.layers }, (_, l) => all.slice(l * size, (l + 1) * size)) };
}
