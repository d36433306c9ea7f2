import { describe, expect, it } from 'vitest';
import { denseKeyBlocks, keyMaskBit } from '../../engine/plan';
import { boundaryScores, DHSA_INSTRUCTION, dhsaReference, selectBoundaries, selectKeys, type DhsaParams, type DhsaShape } from './dhsa';
import { randomQkv } from '../goldenInputs.testutil';

const params: DhsaParams = { budget: 64, localTokens: 16, globalTokens: 8, chunkMultiplier: 4 };
const shapeOf = (tokens: number, heads = 2, headDim = 8): DhsaShape => ({ tokens, heads, headDim, bidirectionalPrefix: 0, firstTokenRow: 0 });

describe('DHSA boundaries', () => {
  it('find a planted shift of the keys, and keep the forced instruction boundary', () => {
    const tokens = 96;
    const qkv = randomQkv(1, tokens, 2, 8);
    const channels = 16;
    // Keys of tokens 40… get a large common offset: the window means differ most around t = 39.
    for (let t = 0; t < tokens; t++) for (let c = 0; c < channels; c++) qkv[t * 3 * channels + channels + c]! += t < 40 ? 3 : -3;
    const z = boundaryScores(qkv, tokens, channels);
    expect(z[0]).toBe(-100);
    expect(z[tokens - 4]).toBe(-100);
    let best = 0;
    for (let t = 0; t < tokens; t++) if (z[t]! > z[best]!) best = t;
    expect(best).toBe(39);
    const boundaries = selectBoundaries(z, tokens, 4);
    expect(boundaries[0]).toBe(0);
    expect(boundaries.at(-1)).toBe(tokens);
    expect(boundaries).toContain(40);
    expect(boundaries).toContain(tokens - DHSA_INSTRUCTION + 1);
    expect(boundaries.length - 2).toBeLessThanOrEqual(Math.floor(tokens / 32) * 4);
    const inner = boundaries.slice(1, -1);
    inner.slice(1).forEach((b, i) => expect(b - inner[i]!).toBeGreaterThan(4));
  });
});

describe('DHSA selection', () => {
  it('keeps every allowed key when the budget covers them', () => {
    const tokens = 80;
    const qkv = randomQkv(2, tokens, 2, 8);
    const selection = dhsaReference(qkv, denseKeyBlocks(tokens, 2), new Map(), 0, shapeOf(tokens), { ...params, budget: 96 });
    expect(selection.keyBlocks).toEqual(denseKeyBlocks(tokens, 2));
    for (let i = 0; i < tokens; i++) for (let j = 0; j <= i; j++) expect(keyMaskBit(selection.keyMask!, tokens, 0, i, j)).toBe(true);
  });

  it('keeps the budget, the recent and the global tokens; the instruction rows are dense; T not a multiple of 32', () => {
    const tokens = 203;
    const qkv = randomQkv(3, tokens, 2, 8, 2);
    const shape = shapeOf(tokens);
    const state = new Map<string, unknown>();
    const boundaries = selectBoundaries(boundaryScores(qkv, tokens, 16), tokens, params.chunkMultiplier);
    const blocks = selectKeys(qkv, boundaries, shape, params);
    const selection = dhsaReference(qkv, denseKeyBlocks(tokens, 2), state, 0, shape, params);
    expect(state.get('boundaries')).toEqual(boundaries);
    expect(blocks.length).toBe(7);
    blocks.forEach((block, b) => {
      const allowed = Math.min((b + 1) * 32, tokens);
      if (allowed <= params.budget || b * 32 >= tokens - DHSA_INSTRUCTION) return expect(block.selecting).toBe(false);
      expect(block.selecting).toBe(true);
      expect(block.keys.length).toBe(params.budget);
      for (let g = 0; g < params.globalTokens; g++) expect(block.keys).toContain(g);
      for (let j = allowed - params.localTokens; j < allowed; j++) expect(block.keys).toContain(j);
      expect(block.keys.every((j) => j < allowed)).toBe(true);
    });
    for (let i = tokens - DHSA_INSTRUCTION; i < tokens; i++) for (let j = 0; j <= i; j++) expect(keyMaskBit(selection.keyMask!, tokens, 0, i, j)).toBe(true);
    // A later layer reads the boundaries layer 0 left.
    const later = dhsaReference(randomQkv(4, tokens, 2, 8), denseKeyBlocks(tokens, 2), state, 1, shape, params);
    expect(state.get('boundaries')).toEqual(boundaries);
    expect(later.keyBlocks[0]!.length).toBe(13);
  });
});
