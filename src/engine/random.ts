/** CPU twin of shaders/random.wgsl: identical masks on both sides, bit for bit. */

export const enum DropoutSite {
  Embedding = 1,
  Attention = 2,
  Residual = 3,
  /** One draw per (sample, sublayer): whether a 'layer'-kind site drops the whole sublayer. */
  Sublayer = 4,
}

export interface DropoutStream {
  seed: number;
  sample: number;
  site: DropoutSite;
  layer: number;
}

export function pcgHash(value: number): number {
  const state = (Math.imul(value >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

export function dropoutUniform(stream: DropoutStream, head: number, index: number): number {
  let h = pcgHash(stream.seed);
  h = pcgHash(h ^ stream.sample);
  h = pcgHash(h ^ stream.site);
  h = pcgHash(h ^ stream.layer);
  h = pcgHash(h ^ head);
  h = pcgHash(h ^ index);
  return (h >>> 8) * (1 / 16777216);
}

export function dropoutFactor(stream: DropoutStream, rate: number, head: number, index: number): number {
  // The GPU compares against the f32 rate; so must we, or a mask could differ at the boundary.
  const rate32 = Math.fround(rate);
  return dropoutUniform(stream, head, index) < rate32 ? 0 : Math.fround(1 / (1 - rate32));
}
