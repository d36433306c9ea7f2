// @vitest-environment jsdom
import { describe, expect, test } from 'vitest';
import { countFlops } from '../flops/countFlops';
import { parseModelConfig } from '../models/config';
import { buildPlan } from '../techniques/buildPlan';
import { densityGrid, densityGridData } from './densityGrid';
import { densityText } from './panelText';
import { serializePanel } from './snapshot.testutil';

const config = parseModelConfig({ n_layer: 2, n_head: 2, n_embd: 16, n_positions: 128, vocab_size: 23, layer_norm_epsilon: 1e-5 });

describe('densityGrid', () => {
  test('dense attention is 100% everywhere, a sliding window from layer 1 lowers only that layer', async () => {
    const dense = buildPlan(config, 96, []);
    expect(densityGridData(dense, countFlops(dense)).density).toEqual([[1, 1], [1, 1]]);
    const windowed = buildPlan(config, 96, [{ id: 'sliding-window', params: { sinkTokens: 0, windowTokens: 16, fromLayer: 1, granularity: 'token' } }]);
    const data = densityGridData(windowed, countFlops(windowed));
    expect(data.density[0]).toEqual([1, 1]);
    // Each query keeps min(i + 1, 16) keys: (16·17/2 + 80·16) / (96·97/2).
    expect(data.density[1]![0]).toBeCloseTo((136 + 80 * 16) / 4656, 10);
    expect(data.estimator).toEqual([null, null]);
    const svg = densityGrid(data);
    expect([...svg.querySelectorAll('.layer[data-layer="1"] .cell')].map((c) => c.getAttribute('data-density'))).toEqual(['0.3041', '0.3041']);
    expect(densityText(data).table.rows[2]).toEqual(['1', '0', '30.4%', '—', '—']);
    await expect(serializePanel(svg)).toMatchFileSnapshot('__snapshots__/density.svg');
  });
});
