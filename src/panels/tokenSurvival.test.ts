// @vitest-environment jsdom
import { describe, expect, test } from 'vitest';
import { runs, tokenSurvival } from './tokenSurvival';
import { serializePanel } from './snapshot.testutil';

describe('tokenSurvival', () => {
  test('pruning after layer 1 shows as shorter strips', async () => {
    const all = Int32Array.from({ length: 12 }, (_, i) => i);
    const kept = Int32Array.from([0, 1, 2, 4, 7, 8, 9, 10, 11]);
    const svg = tokenSurvival({ tokens: Array.from({ length: 12 }, (_, i) => `t${i}`), layerPositions: [all, all, kept, kept] });
    expect([...svg.querySelectorAll('.layer')].map((l) => l.getAttribute('data-kept'))).toEqual(['12', '12', '9', '9']);
    expect(svg.querySelectorAll('.layer[data-layer="2"] rect.kept')).toHaveLength(3);
    expect(svg.querySelector('.layer[data-layer="3"] title')?.textContent).toBe('layer 3: 9 of 12 tokens computed');
    await expect(serializePanel(svg)).toMatchFileSnapshot('__snapshots__/survival.svg');
  });

  test('runs merge consecutive positions', () => {
    expect(runs(Int32Array.from([0, 1, 2, 5, 7, 8]))).toEqual([[0, 2], [5, 5], [7, 8]]);
    expect(runs(new Int32Array(0))).toEqual([]);
  });
});
