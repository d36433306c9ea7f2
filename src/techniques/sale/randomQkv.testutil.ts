/** The fixtures' random qkv (src/techniques/__fixtures__/README.md): lowbias32 of the value index, q part scaled. */
export function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

export function randomQkv(seed: number, tokens: number, heads: number, headDim: number, qScale: number): Float32Array {
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
