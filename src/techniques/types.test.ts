import { describe, expect, test } from 'vitest';
import { fastv } from './fastv/fastv';
import { techniques } from './registry';
import { slidingWindow } from './slidingWindow/slidingWindow';
import { paramRange, type NumberParam, type Technique } from './types';

function numberParam(technique: Technique, key: string): NumberParam {
  const spec = technique.params.find((p) => p.key === key);
  if (!spec || spec.kind === 'choice') throw new Error(`no number parameter ${key}`);
  return spec;
}

describe('paramRange', () => {
  const fastvLayer = numberParam(fastv, 'layer');
  const fromLayer = numberParam(slidingWindow, 'fromLayer');

  test("a layer parameter stops at the loaded model's last layer", () => {
    expect(paramRange(fastvLayer, { n_layer: 2 })).toEqual({ min: 1, max: 1 });
    expect(paramRange(fastvLayer, { n_layer: 4 })).toEqual({ min: 1, max: 3 });
    expect(paramRange(fromLayer, { n_layer: 2 })).toEqual({ min: 0, max: 1 });
  });

  test('before a model is known, and for other parameters, the static bounds', () => {
    expect(paramRange(fastvLayer, null)).toEqual({ min: 1, max: 47 });
    expect(paramRange(numberParam(slidingWindow, 'windowTokens'), { n_layer: 2 })).toEqual({ min: 1, max: 1024 });
  });

  test('a model too shallow for the minimum leaves the minimum alone, never an empty range', () => {
    expect(paramRange(fastvLayer, { n_layer: 1 })).toEqual({ min: 1, max: 1 });
  });

  test('every parameter named after a layer is bounded by the model', () => {
    const layerParams = techniques.flatMap((t) => t.params.filter((p) => /layer/i.test(p.label)));
    expect(layerParams.map((p) => p.key)).toEqual(['fromLayer', 'layer']);
    for (const spec of layerParams) expect(spec).toMatchObject({ modelIndex: 'layer' });
  });
});
