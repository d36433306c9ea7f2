import { expect } from 'vitest';
import type { TransformerConfig } from '../models/config';
import type { TransformerWeights } from '../models/modelWeights';
import { cpuForward } from './cpu/cpuForward';
import { relativeError } from './kernelHarness';
import type { ExecutionPlan } from './plan';
import type { ForwardResult } from './result';

export interface CpuModel {
  config: TransformerConfig;
  weights: TransformerWeights;
  ids: readonly number[];
  pixels?: Float32Array | undefined;
}

/**
 * The GPU forward pass equals the CPU forward driven by the same plan: logits (the mean over Monte-Carlo samples)
 * and captured attention within 1e-4 relative, and the same surviving positions in every layer.
 */
export function expectMatchesCpuForward(result: ForwardResult, plan: ExecutionPlan, { config, weights, ids, pixels }: CpuModel): void {
  const samples = plan.dropout?.samples ?? 1;
  const references = Array.from({ length: samples }, (_, s) => cpuForward(config, weights, plan, ids, s, pixels));
  const meanLogits = references[0]!.logits.map((_, i) => references.reduce((sum, r) => sum + r.logits[i]!, 0) / samples);
  expect(relativeError(result.logits, meanLogits)).toBeLessThanOrEqual(1e-4);
  expect(result.layerPositions.map((p) => Array.from(p))).toEqual(references[0]!.layerPositions.map((p) => Array.from(p)));
  // What each GPU estimator chose (read back into result.plan) is what its CPU twin chose.
  for (const layer of result.plan.layers) {
    if (!layer.estimator) continue;
    const selection = references[0]!.selections.get(layer.index)!;
    expect(layer.selection?.keyBlocks, `key blocks ${layer.estimator.technique} chose in layer ${layer.index}`).toEqual(selection.keyBlocks);
    expect(layer.selection?.keyMask?.bits, `key mask ${layer.estimator.technique} wrote in layer ${layer.index}`).toEqual(selection.keyMask?.bits);
  }
  for (const capture of result.attention) {
    expect(relativeError(capture.probs, references[0]!.probs[capture.layer]!), `attention of layer ${capture.layer}`).toBeLessThanOrEqual(1e-4);
  }
}
