// @vitest-environment jsdom
import { describe, expect, test } from 'vitest';
import { EvalTally } from '../eval/evalReport';
import { needleGrid } from './needleGrid';
import { needleText } from './panelText';
import { serializePanel } from './snapshot.testutil';

function report(correctAt: (length: number, depth: number, item: number) => boolean) {
  const tally = new EvalTally();
  for (const length of [128, 256]) for (const depth of [0, 0.5, 1]) for (let item = 0; item < 2; item++) {
    tally.score(correctAt(length, depth, item), ['needle', `needle L=${length} depth=${depth}`]);
  }
  return tally.report();
}

describe('needleGrid', () => {
  test('one grid per configuration, each cell its correct count, coloured by accuracy', async () => {
    const dense = report(() => true);
    // A window that loses mid-context needles at the longer length.
    const windowed = report((length, depth, item) => !(length === 256 && depth === 0.5) || item === 0);
    const data = { lengths: [128, 256], depths: [0, 0.5, 1], grids: [{ title: 'dense', report: dense }, { title: 'sliding window', report: windowed }] };
    const svg = needleGrid(data);
    const cells = svg.querySelectorAll('.grid[data-title="sliding window"] .cell');
    expect(cells).toHaveLength(6);
    expect(svg.querySelector('.grid[data-title="sliding window"] .cell[data-length="256"][data-depth="0.5"]')?.getAttribute('data-accuracy')).toBe('0.5');
    expect(svg.textContent).toContain('sliding window: 92%');
    expect(needleText(data).table.rows[4]).toEqual(['256', '0.5', '2/2', '1/2']);
    await expect(serializePanel(svg)).toMatchFileSnapshot('__snapshots__/needle-grid.svg');
  });
});
