// @vitest-environment jsdom
import { describe, expect, test } from 'vitest';
import type { AttentionCapture } from '../engine/result';
import type { RgbImage } from '../models/image';
import { imagePatches } from './imagePatches';
import { imageCaption, imagePatchesData, type ImageRun } from './imagePatchesData';
import { lcg, serializePanel } from './snapshot.testutil';

/** 8×8 pixels, grid 4 (2×2-pixel patches): grey ground, a red 4×4 square top left, a blue 2×2 one bottom right. */
function sceneImage(): RgbImage {
  const rgb = new Uint8Array(8 * 8 * 3);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const colour = x < 4 && y < 4 ? [200, 40, 40] : x >= 6 && y >= 6 ? [40, 60, 200] : [170, 172, 174];
      rgb.set(colour, (y * 8 + x) * 3);
    }
  }
  return { width: 8, height: 8, rgb };
}

const all = Int32Array.from({ length: 16 }, (_, p) => p);
// FastV-like: 6 patches dropped before layer 1, 2 more before layer 2 (a ViT's CLS, position 16, always stays).
const afterFirst = Int32Array.from([0, 1, 4, 5, 6, 9, 10, 13, 14, 15]);
const afterSecond = Int32Array.from([0, 1, 4, 5, 9, 10, 14, 15]);
const run: ImageRun = { image: sceneImage(), grid: 4, patchesPerLayer: [all, afterFirst, afterSecond] };

/** Seeded softmax rows over the computed tokens of one layer (its patches, then CLS), for 2 heads. */
function capture(layer: number): AttentionCapture {
  const positions = Int32Array.from([...run.patchesPerLayer[layer]!, 16]);
  const n = positions.length;
  const random = lcg(11 + layer);
  const probs = new Float32Array(2 * n * n);
  for (let row = 0; row < 2 * n; row++) {
    const weights = Array.from({ length: n }, () => Math.exp(3 * random()));
    const sum = weights.reduce((a, b) => a + b, 0);
    weights.forEach((w, k) => (probs[row * n + k] = w / sum));
  }
  const mask = { tokens: n, bidirectionalPrefix: n, tokenWindow: null, firstTokenRow: n - 1 };
  return { layer, heads: 2, tokens: n, probs, computedTiles: new Uint8Array(1).fill(1), forcedTiles: null, blockSize: 16, positions, mask };
}

const caption = 'Eval image 7: how many objects? (expected class: two)';

describe('imagePatchesData', () => {
  test('when each patch is dropped, and the output row’s attention over patches (one head, or their mean)', () => {
    const layer1 = capture(1);
    const data = imagePatchesData(run, layer1, 'mean', 'CLS', caption);
    expect(data).toMatchObject({ grid: 4, layers: 3, layer: 1, head: 'mean', outputRow: 'CLS', caption });
    expect([...data.droppedAt]).toEqual([3, 3, 1, 1, 3, 3, 2, 1, 1, 3, 3, 1, 1, 2, 3, 3]);
    const n = layer1.tokens;
    const lastRow = (head: number, i: number) => layer1.probs[head * n * n + (n - 1) * n + i]!;
    // Patch 6 is the 5th computed token.
    expect(data.attention[6]).toBeCloseTo((lastRow(0, 4) + lastRow(1, 4)) / 2, 6);
    expect(data.attention[2]).toBe(0);
    expect(imagePatchesData(run, layer1, 1, 'CLS', caption).attention[6]).toBeCloseTo(lastRow(1, 4), 6);
  });
});

describe('imagePatches', () => {
  test('pruned patches hatched, patches a later layer drops outlined, attention as brightness', async () => {
    const svg = imagePatches(imagePatchesData(run, capture(1), 'mean', 'CLS', caption));
    expect(svg.getAttribute('data-patches')).toBe('16');
    expect(svg.getAttribute('data-pruned-patches')).toBe('6');
    expect(svg.getAttribute('data-dropped-later')).toBe('2');
    expect(svg.querySelectorAll('.view-computed rect.pruned')).toHaveLength(6);
    expect(svg.querySelectorAll('.view-attention rect.pruned')).toHaveLength(6);
    expect([...svg.querySelectorAll('rect.dropped-later')].map((r) => r.getAttribute('data-patch'))).toEqual(['6', '13']);
    expect(svg.querySelectorAll('rect.attention')).toHaveLength(10);
    // The most attended computed patch is not dimmed at all.
    expect(Math.min(...[...svg.querySelectorAll('rect.attention')].map((r) => Number(r.getAttribute('fill-opacity'))))).toBe(0);
    expect(svg.querySelector('.caption')?.textContent).toContain('10 of 16 patches computed at layer 1 (per layer: 16 · 10 · 8)');
    const total = [...svg.querySelectorAll('rect.attention')].reduce((sum, r) => sum + Number(r.getAttribute('data-value')), 0);
    expect(svg.querySelector('.legend')?.textContent).toContain(`all patches ${total.toFixed(3)})`);
    expect(svg.querySelector('.view-computed title')?.textContent).toBe('patch (0,2): pruned before layer 1');
    // The pixels are drawn once, as runs of equal colour, and shown in both views.
    expect(svg.querySelectorAll('#image-pixels rect')).toHaveLength(4 * 2 + 2 * 1 + 2 * 2);
    expect([...svg.querySelectorAll('use')].map((u) => u.getAttribute('href'))).toEqual(['#image-pixels', '#image-pixels']);
    await expect(serializePanel(svg)).toMatchFileSnapshot('__snapshots__/image-patches.svg');
  });

  test('at layer 0 nothing is pruned yet, and what FastV will drop is outlined', () => {
    const svg = imagePatches(imagePatchesData(run, capture(0), 0, '?', caption));
    expect(svg.getAttribute('data-pruned-patches')).toBe('0');
    expect(svg.getAttribute('data-dropped-later')).toBe('8');
    expect(svg.querySelectorAll('rect.attention')).toHaveLength(16);
    expect(svg.querySelector('.view-attention text')?.textContent).toBe("attention from '?' (head 0)");
  });

  test('is deterministic', () => {
    const draw = () => serializePanel(imagePatches(imagePatchesData(run, capture(2), 'mean', 'CLS', caption)));
    expect(draw()).toBe(draw());
  });
});

describe('the caption says what the image is', () => {
  const evalItem = { task: 'count', image: sceneImage(), text: 'how many shapes ?', answer: '2' };

  test('an eval item, with the expected answer of its own question only', () => {
    expect(imageCaption({ origin: { kind: 'eval', item: 4, evalItem }, question: null })).toBe('Eval image 4 (expected class: 2)');
    expect(imageCaption({ origin: { kind: 'eval', item: 4, evalItem }, question: 'how many shapes ?' })).toBe('Eval image 4: “how many shapes ?” (expected answer: 2)');
    expect(imageCaption({ origin: { kind: 'eval', item: 4, evalItem }, question: 'is there a star ?' })).toBe('Eval image 4: “is there a star ?”');
  });

  test("the user's own image, which has no expected answer", () => {
    expect(imageCaption({ origin: { kind: 'uploaded', name: 'cat.png' }, question: null })).toBe('Your image “cat.png”');
    expect(imageCaption({ origin: { kind: 'uploaded', name: 'cat.png' }, question: 'how many shapes ?' })).toBe('Your image “cat.png”: “how many shapes ?”');
  });
});
