import { describe, expect, it } from 'vitest';
import { DropoutSite, dropoutFactor, dropoutUniform, pcgHash } from './random';

describe('the dropout hash', () => {
  it('is the PCG hash (reference values from the C definition with 32-bit wrap-around)', () => {
    // state = v·747796405 + 2891336453; word = ((state >> ((state >> 28) + 4)) ^ state)·277803737; (word >> 22) ^ word
    expect(pcgHash(0)).toBe(129708002);
    expect(pcgHash(1)).toBe(2831084092);
  });

  it('drops about the requested fraction, reproducibly per stream', () => {
    const stream = { seed: 3, sample: 0, site: DropoutSite.Attention, layer: 1 };
    const factors = Array.from({ length: 20000 }, (_, i) => dropoutFactor(stream, 0.25, 0, i));
    const dropped = factors.filter((f) => f === 0).length / factors.length;
    expect(dropped).toBeGreaterThan(0.23);
    expect(dropped).toBeLessThan(0.27);
    expect(factors.find((f) => f !== 0)).toBeCloseTo(1 / 0.75, 6);
    expect(dropoutUniform(stream, 2, 7)).toBe(dropoutUniform({ ...stream }, 2, 7));
    expect(dropoutUniform(stream, 2, 7)).not.toBe(dropoutUniform({ ...stream, sample: 1 }, 2, 7));
  });
});
