// @vitest-environment jsdom
import { describe, expect, test } from 'vitest';
import { predictionsTable, type PredictionsPanelData } from './predictionsTable';
import { serializePanel } from './snapshot.testutil';

const rows = [
  { label: ' fox', denseProb: 0.41, currentProb: 0.38, currentStd: 0.05 },
  { label: ' dog', denseProb: 0.22, currentProb: 0.25, currentStd: 0.04 },
  { label: '\n', denseProb: 0.05, currentProb: 0.07, currentStd: 0.02 },
];

describe('predictionsTable', () => {
  test('deterministic pass: bars and outlines, no whiskers', async () => {
    const data: PredictionsPanelData = { rows: rows.map((r) => ({ ...r, currentStd: 0 })), dense: { klDenseToCurrent: 0.0123, top1Agrees: true }, samples: 1 };
    const svg = predictionsTable(data);
    expect(svg.querySelectorAll('rect.current')).toHaveLength(3);
    expect(svg.querySelectorAll('rect.dense')).toHaveLength(3);
    expect(svg.querySelectorAll('.whisker')).toHaveLength(0);
    expect(svg.querySelector('.whisker-legend')).toBeNull();
    expect(svg.querySelector('.kl')?.textContent).toBe('KL(dense ‖ current) = 0.0123 nats');
    expect(svg.querySelector('.top1')?.textContent).toBe('Top-1 agrees with the dense model');
    expect([...svg.querySelectorAll('.row > text')].map((t) => t.textContent)).toContain("'↵'");
    await expect(serializePanel(svg)).toMatchFileSnapshot('__snapshots__/predictions.svg');
  });

  test('Monte-Carlo samples: mean ± std whiskers and the sample count', async () => {
    const svg = predictionsTable({ rows, dense: { klDenseToCurrent: 0.2, top1Agrees: false }, samples: 8 });
    expect(svg.querySelectorAll('.whisker')).toHaveLength(3);
    expect(svg.querySelector('.top1')?.getAttribute('data-agrees')).toBe('false');
    expect(svg.querySelector('.top1')?.textContent).toBe('Top-1 differs from the dense model · mean ± std over 8 samples');
    expect(svg.querySelector('.row .value')?.textContent).toBe('38.0% ± 5.0% (dense 41.0%)');
    expect(svg.querySelector('.whisker-legend')?.textContent).toBe('whiskers: ± population standard deviation (ddof = 0) over 8 samples');
    expect(svg.querySelector('.row title')?.textContent).toBe("' fox': current 38.0% ± 5.0%, dense 41.0%; ± is the population standard deviation (ddof = 0) over 8 samples");
    await expect(serializePanel(svg)).toMatchFileSnapshot('__snapshots__/predictions-sampled.svg');
  });

  test("before the dense reference arrives: our engine's bars alone, and a line saying the dense one follows", async () => {
    const svg = predictionsTable({ rows: rows.map((r) => ({ ...r, denseProb: null, currentStd: 0 })), dense: null, samples: 1 });
    expect(svg.getAttribute('data-dense')).toBe('pending');
    expect(svg.querySelectorAll('rect.current')).toHaveLength(3);
    expect(svg.querySelectorAll('rect.dense')).toHaveLength(0);
    expect(svg.querySelector('.kl')?.textContent).toBe('KL(dense ‖ current): waiting for the dense reference…');
    expect(svg.querySelector('.top1')?.hasAttribute('data-agrees')).toBe(false);
    expect(svg.querySelector('.row .value')?.textContent).toBe('38.0%');
    expect(svg.querySelector('.row title')?.textContent).toBe("' fox': current 38.0%");
    await expect(serializePanel(svg)).toMatchFileSnapshot('__snapshots__/predictions-dense-pending.svg');
  });

  test("a long label ('bottom-right', a class of shapes-vit) widens the label column instead of being cut", () => {
    const svg = predictionsTable({ rows: [{ ...rows[0]!, label: 'bottom-right' }], dense: { klDenseToCurrent: 0, top1Agrees: true }, samples: 1 });
    const label = svg.querySelector('.row > text')!;
    expect(label.textContent).toBe("'bottom-right'");
    const column = Number(/translate\(([\d.]+),/.exec(svg.querySelector('g.rows')!.getAttribute('transform')!)![1]);
    // Right-aligned at x = -8 from the column's edge; DejaVu Sans Mono glyphs are 0.6 em wide.
    expect(column - 8 - label.textContent!.length * 11 * 0.6).toBeGreaterThanOrEqual(0);
  });

  test('a classifier names its outputs', () => {
    const svg = predictionsTable({ rows, dense: { klDenseToCurrent: 0, top1Agrees: true }, samples: 1 }, { title: 'Class predictions' });
    expect(svg.querySelector('.panel-title')?.textContent).toBe('Class predictions');
    expect(svg.getAttribute('aria-label')).toBe('Class predictions');
  });
});
