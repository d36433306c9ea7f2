/** The shared random generator of src/techniques/__fixtures__/README.md (the PyTorch references draw the same). */
export function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** qkv rows [tokens, 3C]: value n = t·3C + c is lowbias32((n + seed·0x9E3779B9) mod 2³²) mapped to [−1, 1), q × qScale. */
export function randomQkv(seed: number, tokens: number, heads: number, headDim: number, qScale = 1): Float32Array {
  const channels = heads * headDim;
  const out = new Float32Array(tokens * 3 * channels);
  for (let n = 0; n < out.length; n++) {
    const h = lowbias32((n + Math.imul(seed, 0x9e3779b9)) >>> 0);
    out[n] = (((h >>> 8) / 2 ** 24) * 2 - 1) * (n % (3 * channels) < channels ? qScale : 1);
  }
  return out;
}
