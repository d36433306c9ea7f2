import { describe, expect, test } from 'vitest';
import { attentionText, flopsText, predictionsText, survivalText } from './panelText';

describe("panels' text alternatives", () => {
  test('attention: tokens, pruned and skipped tiles; the table names each query’s most attended key', () => {
    const probs = Float32Array.from([1, 0, 0, /**/ 0.3, 0.7, 0, /**/ 0.5, 0.1, 0.4]);
    const data = { tokens: ['a', 'b', 'c', 'd'], positions: Int32Array.from([0, 2, 3]), probs, computedTiles: Uint8Array.from([1]), blockSize: 16, layer: 1, head: 2, visiblePrefix: 0, windowMask: null, forcedTiles: null, maskHead: 0 };
    const text = attentionText(data);
    expect(text.description).toBe('Layer 1, head 2: 4 tokens, 1 pruned; 0 of 1 causal 16×16 tiles skipped.');
    expect(text.table.rows).toEqual([
      ["'a' (pos 0)", "'a' (pos 0)", '1.000'],
      ["'c' (pos 2)", "'c' (pos 2)", '0.700'],
      ["'d' (pos 3)", "'a' (pos 0)", '0.500'],
    ]);
  });

  test('predictions: KL and top-1 once the dense reference is in, and says so while it loads', () => {
    const rows = [{ label: ' fox', denseProb: 0.41, currentProb: 0.38, currentStd: 0.05 }];
    expect(predictionsText({ rows, dense: { klDenseToCurrent: 0.01234, top1Agrees: false }, samples: 8 })).toEqual({
      description: "KL(dense ‖ current) = 0.0123 nats; top-1 differs from the dense model. Top prediction '␣fox' at 38.0%. Mean ± std over 8 samples.",
      table: { columns: ['output', 'current (mean ± std)', 'dense'], rows: [["'␣fox'", '38.0% ± 5.0%', '41.0%']] },
    });
    const loading = predictionsText({ rows: [{ ...rows[0]!, denseProb: null }], dense: null, samples: 1 });
    expect(loading.description).toBe("The dense reference is still loading. Top prediction '␣fox' at 38.0%.");
    expect(loading.table.rows).toEqual([["'␣fox'", '38.0%', 'loading']]);
  });

  test('FLOPs: totals and the share saved, overall and per layer', () => {
    const text = flopsText({
      layers: [
        { label: 'L0', dense: { qkv: 3e6, mlpUp: 1e6 }, current: { qkv: 3e6, mlpUp: 1e6 } },
        { label: 'L1', dense: { qkv: 3e6, mlpUp: 1e6 }, current: { qkv: 1e6 } },
      ],
      convention: '',
    });
    expect(text.description).toBe('Total 5 MFLOP now vs 8 MFLOP dense (37.5% saved).');
    expect(text.table.rows).toEqual([
      ['L0', '4 MFLOP', '4 MFLOP', '0.0%'],
      ['L1', '1 MFLOP', '4 MFLOP', '75.0%'],
    ]);
  });

  test('token survival: tokens each layer computes', () => {
    const text = survivalText({ tokens: ['a', 'b', 'c'], layerPositions: [Int32Array.from([0, 1, 2]), Int32Array.from([0, 2])] });
    expect(text.description).toBe('3 input tokens; the last layer computes 2 of them.');
    expect(text.table.rows).toEqual([['L0', '3 of 3'], ['L1', '2 of 3']]);
  });
});
