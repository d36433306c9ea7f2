import { describe, expect, it } from 'vitest';
import { erfApprox, geluErf } from './kernels';

describe('the erf approximation the GELU kernel uses', () => {
  it('is within 1.5e-7 of erf at reference points', () => {
    // erf values to 10 digits (Abramowitz & Stegun table 7.1).
    const reference: [number, number][] = [[0, 0], [0.1, 0.1124629160], [0.5, 0.5204998778], [1, 0.8427007929], [2, 0.9953222650], [3, 0.9999779095]];
    for (const [x, erf] of reference) {
      expect(Math.abs(erfApprox(x) - erf)).toBeLessThan(1.5e-7);
      expect(Math.abs(erfApprox(-x) + erf)).toBeLessThan(1.5e-7);
    }
  });

  it('gives GELU(x) = x·Φ(x)', () => {
    expect(geluErf(0)).toBe(0);
    expect(geluErf(1)).toBeCloseTo(0.8413447461, 6);
    expect(geluErf(-1)).toBeCloseTo(-0.1586552539, 6);
  });
});
