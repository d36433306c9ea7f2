// @vitest-environment jsdom
import { describe, expect, test } from 'vitest';
import { attentionHeatmap, describeCell, heatmapGrid, tileCounts, type AttentionMapData } from './attentionHeatmap';
import { serializePanel, syntheticAttention } from './snapshot.testutil';

function denseMap(tokens: string[], blockSize: number): AttentionMapData {
  const n = tokens.length;
  const blocks = Math.ceil(n / blockSize);
  return {
    tokens,
    positions: Int32Array.from(tokens.keys()),
    probs: syntheticAttention(n, 7),
    computedTiles: new Uint8Array(blocks * blocks).map((_, i) => (i % blocks <= Math.floor(i / blocks) ? 1 : 0)),
    blockSize,
    layer: 1,
    head: 2,
    visiblePrefix: 0,
    windowMask: null,
    forcedTiles: null,
    maskHead: 0,
  };
}

const words = 'The quick brown fox jumps over the lazy dog . The quick'.split(' ').map((w, i) => (i ? ` ${w}` : w));

describe('attentionHeatmap', () => {
  test('dense map with token labels', async () => {
    const svg = attentionHeatmap(denseMap(words, 4));
    expect(svg.querySelectorAll('rect[data-kind="value"]')).toHaveLength((12 * 13) / 2);
    expect(svg.querySelector('.x-ticks')?.textContent).toContain('␣fox');
    await expect(serializePanel(svg)).toMatchFileSnapshot('__snapshots__/attention-dense.svg');
  });

  test('pruned tokens and skipped tiles are drawn as such', async () => {
    // 12 tokens, positions 3, 5 and 6 pruned: 9 computed, blocks of 2 → 5×5 tiles, two causal tiles skipped.
    const positions = Int32Array.from([0, 1, 2, 4, 7, 8, 9, 10, 11]);
    const n = positions.length;
    const computedTiles = new Uint8Array(25).map((_, i) => (i % 5 <= Math.floor(i / 5) ? 1 : 0));
    computedTiles[4 * 5 + 1] = 0;
    computedTiles[3 * 5 + 1] = 0;
    const data: AttentionMapData = { tokens: words, positions, probs: syntheticAttention(n, 3), computedTiles, blockSize: 2, layer: 3, head: 'mean', visiblePrefix: 0, windowMask: null, forcedTiles: null, maskHead: 0 };
    const svg = attentionHeatmap(data);
    expect(tileCounts(data)).toEqual({ visible: 15, skipped: 2 });
    expect(svg.getAttribute('data-skipped-tiles')).toBe('2');
    expect(svg.getAttribute('data-pruned-tokens')).toBe('3');
    const pruned = [...svg.querySelectorAll('rect[data-kind="pruned"]')];
    // Rows and columns 3, 5, 6 over all 12 positions: 12·3 + 12·3 − 3·3 cells.
    expect(pruned).toHaveLength(63);
    expect(pruned.every((r) => ['3', '5', '6'].includes(r.getAttribute('data-q') ?? '') || ['3', '5', '6'].includes(r.getAttribute('data-k') ?? ''))).toBe(true);
    // Skipped: query tiles 3 and 4 (computed indices 6..8, positions 9..11) × key tile 1 (indices 2, 3: positions 2, 4).
    const skipped = [...svg.querySelectorAll('rect[data-kind="skipped"]')].map((r) => `${r.getAttribute('data-q')},${r.getAttribute('data-k')}`);
    expect(skipped.sort()).toEqual(['10,2', '10,4', '11,2', '11,4', '9,2', '9,4']);
    expect(svg.querySelector('.panel-title')?.textContent).toBe('Attention, layer 3, mean of heads');
    expect(describeCell(data, 9, 2)).toBe("query '␣.' (pos 9) → key '␣brown' (pos 2): skipped tile");
    expect(describeCell(data, 5, 0)).toBe("query '␣over' (pos 5) → key 'The' (pos 0): pruned token");
    expect(describeCell(data, 0, 1)).toBe("query 'The' (pos 0) → key '␣quick' (pos 1): masked (causal)");
    expect(describeCell(data, 1, 1)).toMatch(/^query '␣quick' \(pos 1\) → key '␣quick' \(pos 1\): \d\.\d{3}$/);
    await expect(serializePanel(svg)).toMatchFileSnapshot('__snapshots__/attention-pruned-skipped.svg');
  });

  test('a prefix-LM map: image keys visible to every query, text causal; a bidirectional map masks nothing', () => {
    // 4 image tokens then 4 text tokens, image token 1 pruned; blocks of 2 over the 7 computed tokens.
    const tokens = ['p0', 'p1', 'p2', 'p3', 'what', 'is', 'it', '?'];
    const positions = Int32Array.from([0, 2, 3, 4, 5, 6, 7]);
    const computedTiles = new Uint8Array(16).fill(1);
    const data: AttentionMapData = { tokens, positions, probs: syntheticAttention(7, 5), computedTiles, blockSize: 2, layer: 2, head: 0, visiblePrefix: 4, windowMask: null, forcedTiles: null, maskHead: 0 };
    // Computed prefix p0, p2, p3 spans key blocks 0 and 1: all 4 query blocks see both, blocks 2 and 3 are causal.
    expect(tileCounts(data)).toEqual({ visible: 4 * 2 + 3, skipped: 0 });
    const svg = attentionHeatmap(data);
    expect(describeCell(data, 0, 3)).toMatch(/^query 'p0' \(pos 0\) → key 'p3' \(pos 3\): \d\.\d{3}$/);
    expect(describeCell(data, 0, 4)).toBe("query 'p0' (pos 0) → key 'what' (pos 4): masked (prefix-LM)");
    expect(describeCell(data, 5, 6)).toBe("query 'is' (pos 5) → key 'it' (pos 6): masked (prefix-LM)");
    // 3 computed image queries see the 3 computed image keys; 4 text queries see those and the text up to themselves.
    expect(svg.querySelectorAll('rect[data-kind="value"]')).toHaveLength(3 * 3 + 4 * 3 + (4 * 5) / 2);
    expect(svg.querySelector('.note')?.textContent).toContain('0 of 11 prefix-LM 2×2 tiles skipped');
    expect([...svg.querySelectorAll('.kinds text')].map((t) => t.textContent)).toContain('prefix-LM mask');

    const bidirectional = { ...denseMap(words, 4), computedTiles: new Uint8Array(9).fill(1), visiblePrefix: words.length };
    expect(tileCounts(bidirectional)).toEqual({ visible: 9, skipped: 0 });
    const bidirectionalSvg = attentionHeatmap(bidirectional);
    expect(bidirectionalSvg.querySelector('.note')?.textContent).toContain('0 of 9 bidirectional 4×4 tiles skipped');
    expect([...bidirectionalSvg.querySelectorAll('.kinds text')].map((t) => t.textContent)).toEqual(['skipped tile', 'pruned token']);
    expect(bidirectionalSvg.querySelectorAll('rect[data-kind="value"]')).toHaveLength(12 * 12);
  });

  test('a token window: keys outside it read as masked inside computed tiles, not as probability 0', () => {
    // 12 tokens in tiles of 4, one sink and a window of 2: query 9 keeps keys 0, 8 and 9.
    const windowMask = { tokens: 12, bidirectionalPrefix: 0, tokenWindow: { sinks: 1, window: 2 }, firstTokenRow: 0 };
    const data: AttentionMapData = { ...denseMap(words, 4), windowMask };
    const svg = attentionHeatmap(data);
    expect(describeCell(data, 9, 5)).toBe("query '␣.' (pos 9) → key '␣over' (pos 5): masked (outside sinks + window)");
    expect(describeCell(data, 9, 10)).toBe("query '␣.' (pos 9) → key '␣The' (pos 10): masked (causal)");
    expect(describeCell(data, 9, 0)).toMatch(/: \d\.\d{3}$/);
    // Query 0 keeps 1 key, query 1 keeps 2 (its predecessor is the sink), queries 2–11 keep 3: 33 cells.
    expect(svg.querySelectorAll('rect[data-kind="value"]')).toHaveLength(33);
    expect([...svg.querySelectorAll('.kinds text')].map((t) => t.textContent)).toEqual(['causal mask', 'outside window', 'skipped tile', 'pruned token']);
  });

  test("an estimator's choice: unselected keys read as masked, and each computed tile says who decided it", () => {
    // 12 tokens in tiles of 4; head 1's key mask keeps only even keys (and the query's own); the estimate skipped tile
    // (2, 1) and chose (2, 0), the method forced the diagonal.
    const bits = new Uint32Array(2 * 12);
    for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) if (j % 2 === 0 || j === i) bits[12 + i]! |= 1 << j;
    const windowMask = { tokens: 12, bidirectionalPrefix: 0, tokenWindow: null, firstTokenRow: 0, keyMask: { perHead: true, bits } };
    const computedTiles = Uint8Array.from([1, 0, 0, 1, 1, 0, 1, 0, 1]);
    const forcedTiles = Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const data: AttentionMapData = { ...denseMap(words, 4), computedTiles, forcedTiles, windowMask, maskHead: 1, head: 1 };
    const svg = attentionHeatmap(data);
    expect(describeCell(data, 9, 3)).toBe("query '␣.' (pos 9) → key '␣fox' (pos 3): masked (key not selected)");
    expect(describeCell(data, 9, 9)).toMatch(/: \d\.\d{3}$/);
    expect(describeCell(data, 9, 5)).toMatch(/skipped tile$/);
    expect([...svg.querySelectorAll('.tile-sources rect')].map((r) => r.getAttribute('data-source'))).toEqual(['forced', 'estimate', 'forced', 'estimate', 'forced']);
    expect([...svg.querySelectorAll('.kinds text')].map((t) => t.textContent)).toEqual([
      'causal mask', 'key not selected', 'skipped tile', 'pruned token', 'tile chosen by estimate', 'tile forced (sink, band, diagonal)',
    ]);
  });

  test('colour legend spans exactly 0 to 1 and names the three regions', () => {
    const svg = attentionHeatmap(denseMap(words, 4));
    expect(svg.querySelector('.ramp')?.getAttribute('data-domain')).toBe('0,1');
    const ticks = [...svg.querySelectorAll('.ramp-ticks text')].map((t) => t.textContent);
    expect(ticks[0]).toBe('0');
    expect(ticks.at(-1)).toBe('1');
    expect([...svg.querySelectorAll('.kinds text')].map((t) => t.textContent)).toEqual(['causal mask', 'skipped tile', 'pruned token']);
  });

  test('long inputs are max-pooled to at most maxCells per edge, with a note', async () => {
    const tokens = Array.from({ length: 300 }, (_, i) => `t${i}`);
    const data = denseMap(tokens, 16);
    const grid = heatmapGrid(data, 128);
    expect(grid).toMatchObject({ cells: 100, span: 3 });
    // The diagonal cell holds the largest of its 3×3 positions; position 0's row is a one-hot 1.
    expect(grid.values[0]).toBeCloseTo(1);
    const svg = attentionHeatmap(data, { maxCells: 32 });
    expect(svg.getAttribute('data-cells')).toBe('30');
    expect(svg.querySelector('.note')?.textContent).toContain('max-pooled: each cell is the largest value over 10×10 positions');
    expect(describeCell(data, 1, 0, 32)).toMatch(/^queries 10–19 't10t11t12t13t14t15t16t1…' → keys 0–9 't0t1t2t3t4t5t6t7t8t9': max 0\.\d{3}$/);
    // 300 tokens on 30 cells: every 10th token labels the axes (at most 40 labels), each with its full text on hover.
    const labels = [...svg.querySelectorAll('.x-ticks text')];
    expect(labels.map((t) => t.firstChild?.textContent)).toEqual(Array.from({ length: 30 }, (_, i) => `t${i * 10}`));
    expect(labels[25]?.querySelector('title')?.textContent).toBe("position 250: 't250'");
    expect(svg.textContent).toContain('key token (attended to; 1 in 10 labelled)');
    await expect(serializePanel(svg)).toMatchFileSnapshot('__snapshots__/attention-pooled.svg');
  });

  test('is deterministic', () => {
    expect(serializePanel(attentionHeatmap(denseMap(words, 4)))).toBe(serializePanel(attentionHeatmap(denseMap(words, 4))));
  });
});
