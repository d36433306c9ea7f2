// @vitest-environment jsdom
import { describe, expect, test } from 'vitest';
import { FLOP_PARTS, flopsBars, flopUnit, type FlopSplit, type FlopsPanelData } from './flopsBars';
import { serializePanel } from './snapshot.testutil';

// A GPT-2-small-like layer at 64 tokens (2 FLOP per multiply-add).
const T = 64;
const d = 768;
const denseLayer: FlopSplit = {
  qkv: 2 * T * d * 3 * d,
  attnScores: 2 * ((T * (T + 1)) / 2) * d,
  attnValues: 2 * ((T * (T + 1)) / 2) * d,
  attnOut: 2 * T * d * d,
  mlpUp: 2 * T * d * 4 * d,
  mlpDown: 2 * T * 4 * d * d,
};

function scaled(split: FlopSplit, factor: number): FlopSplit {
  return Object.fromEntries(Object.entries(split).map(([k, v]) => [k, v * factor]));
}

const data: FlopsPanelData = {
  layers: [
    { label: 'layer 0', dense: denseLayer, current: denseLayer },
    { label: 'layer 1', dense: denseLayer, current: denseLayer },
    { label: 'layer 2', dense: denseLayer, current: { ...scaled(denseLayer, 0.5), overhead: 2 * 12 * T } },
    { label: 'layer 3', dense: denseLayer, current: scaled(denseLayer, 0.5) },
    { label: 'LM head', dense: { lmHead: 2 * d * 50257 }, current: { lmHead: 2 * d * 50257 } },
  ],
  convention: '2 FLOP per multiply-add; softmax, LayerNorm and GELU not counted',
};

describe('flopsBars', () => {
  test('stacked current parts over dense outlines, with totals', async () => {
    const svg = flopsBars(data);
    expect(svg.querySelectorAll('rect.dense')).toHaveLength(5);
    expect(svg.querySelectorAll('.bar[data-label="layer 2"] rect.part')).toHaveLength(7);
    expect(svg.querySelector('.bar[data-label="LM head"] rect.part')?.getAttribute('data-part')).toBe('lmHead');
    expect(svg.querySelector('.y-axis')?.nextElementSibling?.textContent).toBe('FLOPs (MFLOP)');
    const totals = svg.querySelector('.totals')?.textContent ?? '';
    expect(totals).toMatch(/^Total: [\d,.]+ MFLOP now vs [\d,.]+ MFLOP dense \(\d+\.\d% saved\)$/);
    expect(svg.querySelector('.convention')?.textContent).toBe(data.convention);
    await expect(serializePanel(svg)).toMatchFileSnapshot('__snapshots__/flops.svg');
  });

  test('every bar part has a tooltip naming layer, part and both counts', () => {
    const svg = flopsBars(data);
    const title = svg.querySelector('.bar[data-label="layer 3"] rect[data-part="mlpUp"] title')?.textContent;
    expect(title).toBe('layer 3 · MLP up: 150.995 MFLOP now, 301.99 MFLOP dense');
    expect(svg.querySelectorAll('rect.part title').length).toBe(svg.querySelectorAll('rect.part').length);
  });

  test('saved share is exact, and overhead beyond dense is said so', () => {
    const denseTotal = 4 * FLOP_PARTS.reduce((s, p) => s + (denseLayer[p] ?? 0), 0) + 2 * d * 50257;
    const saved = Number(flopsBars(data).querySelector('.totals')?.getAttribute('data-saved'));
    const currentTotal = denseTotal - FLOP_PARTS.reduce((s, p) => s + (denseLayer[p] ?? 0), 0) + 2 * 12 * T;
    expect(saved).toBeCloseTo(1 - currentTotal / denseTotal, 12);
    const worse = flopsBars({ layers: [{ label: 'layer 0', dense: { qkv: 100e6 }, current: { qkv: 100e6, overhead: 10e6 } }], convention: '' });
    expect(worse.querySelector('.totals')?.textContent).toBe('Total: 110 MFLOP now vs 100 MFLOP dense (10.0% more than dense)');
  });

  test('units follow the magnitude', () => {
    expect(flopUnit(2.5e9).name).toBe('GFLOP');
    expect(flopUnit(3e6).name).toBe('MFLOP');
    expect(flopUnit(4e4).name).toBe('kFLOP');
  });
});
