import { describe, expect, it } from 'vitest';
import { sizeClass } from './bufferPool';

describe('buffer size classes', () => {
  it('round up by under 25% and never below 256 bytes', () => {
    expect(sizeClass(1)).toBe(256);
    expect(sizeClass(1000)).toBe(1024);
    expect(sizeClass(1025)).toBe(1280); // next power of two 2048, steps of 256
    expect(sizeClass(100_000)).toBe(114_688); // next power of two 131072, steps of 16384
    for (const bytes of [300, 4097, 123457, 9_999_999]) {
      expect(sizeClass(bytes)).toBeGreaterThanOrEqual(bytes);
      expect(sizeClass(bytes)).toBeLessThan(bytes * 1.25 + 256);
    }
  });
});
