/**
 * The GPU-estimator contract (BlockEstimator, src/techniques/README.md "GPU-decided sparsity"), held by a small
 * estimator written here: per (head, query block) it keeps the diagonal and the planned block holding the key that
 * scores highest against the block's first query, masks each head's keys with its own pattern, and shares a
 * 'forward'-scoped word between layers. Run on the conformance GPT-2, inside a sliding window, it must match its CPU
 * twin through the whole forward, be counted from what it wrote, and be refused when it writes outside the plan.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { countFlops } from '../flops/countFlops';
import { parseModelConfig } from '../models/config';
import { buildPlan } from '../techniques/buildPlan';
import { expectMatchesCpuForward } from './cpuParity.testutil';
import { GpuContext } from './gpuContext';
import { randomGpt2Weights } from './kernelHarness';
import { nodeDevice } from './nodeDevice';
import { ATTENTION_BLOCK, blockCount, wordsPerRow, type BlockEstimator, type ExecutionPlan, type KeyBlockLists, type LayerPlan } from './plan';
import { TransformerEngine } from './transformerEngine';

const config = parseModelConfig({ n_layer: 3, n_head: 2, n_embd: 16, n_positions: 64, vocab_size: 23, layer_norm_epsilon: 1e-5 });
const weights = randomGpt2Weights(config, 42);
const ids = Array.from({ length: 56 }, (_, i) => (i * 5 + 3) % 23);
const headDim = config.n_embd / config.n_head;

const PROBE_WGSL = /* wgsl */ `
#include "estimate.wgsl"
@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> allowed_counts: array<u32>;
@group(0) @binding(2) var<storage, read> allowed_indices: array<u32>;
@group(0) @binding(3) var<storage, read_write> counts: array<u32>;
@group(0) @binding(4) var<storage, read_write> indices: array<u32>;
@group(0) @binding(5) var<storage, read_write> key_mask: array<u32>;
@group(0) @binding(6) var<uniform> shape: EstimateShape;
@group(0) @binding(7) var<storage, read_write> seen_tokens: array<u32>;
override LIST_OUTSIDE_PLAN: bool = false;

@compute @workgroup_size(1)
fn main(@builtin(workgroup_id) group: vec3<u32>) {
  let query_block = group.x;
  let head = group.y;
  let slot = list_slot(shape, head, query_block);
  let channels = shape.heads * shape.head_dim;
  let first_query = query_block * shape.block;
  if (shape.layer == 0u) {
    seen_tokens[0] = shape.tokens;
  }
  var best_block = 0u;
  var best_score = -3.0e38;
  let planned = allowed_counts[slot];
  for (var b = 0u; b < planned; b++) {
    let key_block = allowed_indices[slot * shape.max_key_blocks + b];
    for (var j = key_block * shape.block; j < min((key_block + 1u) * shape.block, shape.tokens); j++) {
      var score = 0.0;
      for (var d = 0u; d < shape.head_dim; d++) {
        score += qkv[first_query * 3u * channels + head * shape.head_dim + d] * qkv[j * 3u * channels + channels + head * shape.head_dim + d];
      }
      if (score > best_score) {
        best_score = score;
        best_block = key_block;
      }
    }
  }
  // Later layers narrow only if layer 0 left its token count in the forward-scoped word.
  let narrow = shape.layer == 0u || seen_tokens[0] == shape.tokens;
  var count = 0u;
  if (LIST_OUTSIDE_PLAN) {
    indices[slot * shape.max_key_blocks] = 0u;
    count = 1u;
  }
  for (var b = 0u; b < planned; b++) {
    let key_block = allowed_indices[slot * shape.max_key_blocks + b];
    if (!narrow || key_block == query_block || key_block == best_block) {
      indices[slot * shape.max_key_blocks + count] = key_block;
      count++;
    }
  }
  counts[slot] = count;
  let words = key_mask_words(shape);
  for (var i = first_query; i < min(first_query + shape.block, shape.tokens); i++) {
    for (var w = 0u; w < words; w++) {
      var bits = 0u;
      for (var bit = 0u; bit < 32u; bit++) {
        let j = w * 32u + bit;
        if ((i + j + head) % 3u != 1u || j == i) {
          bits |= 1u << bit;
        }
      }
      key_mask[(head * shape.tokens + i) * words + w] = bits;
    }
  }
}
`;

/** The probe for one layer; its twin follows the kernel's float order (f32 products summed in key order). */
function probeEstimator(layer: LayerPlan, listOutsidePlan = false): BlockEstimator {
  const { tokens } = layer;
  const heads = config.n_head;
  const channels = config.n_embd;
  const queryBlocks = blockCount(tokens);
  const plannedKeys = layer.keyBlocks.flat(2).reduce((sum, k) => sum + Math.min(ATTENTION_BLOCK, tokens - k * ATTENTION_BLOCK), 0);
  return {
    technique: 'estimator-probe',
    passes: [{
      label: 'best block',
      source: () => PROBE_WGSL,
      constants: { LIST_OUTSIDE_PLAN: listOutsidePlan ? 1 : 0 },
      bindings: ['qkv', 'allowedCounts', 'allowedIndices', 'counts', 'indices', 'keyMask', 'shape', { scratch: 'seen tokens' }],
      workgroups: [queryBlocks, heads],
    }],
    scratch: { 'seen tokens': { bytes: 16, scope: 'forward' } },
    data: {},
    keyMask: 'per-head',
    cost: { macs: plannedKeys * headDim, intMacs: 0 },
    forced: layer.keyBlocks.map((head) => head.map((_, q) => [q])),
    reference: (qkv, allowed, state) => {
      if (layer.index === 0) state.set('seen tokens', tokens);
      const narrow = layer.index === 0 || state.get('seen tokens') === tokens;
      const keyBlocks: KeyBlockLists = allowed.map((headLists, h) =>
        headLists.map((planned, q) => {
          let bestBlock = 0;
          let bestScore = -3.0e38;
          for (const k of planned) {
            for (let j = k * ATTENTION_BLOCK; j < Math.min((k + 1) * ATTENTION_BLOCK, tokens); j++) {
              let score = 0;
              for (let d = 0; d < headDim; d++) {
                score = Math.fround(score + Math.fround(qkv[q * ATTENTION_BLOCK * 3 * channels + h * headDim + d]! * qkv[j * 3 * channels + channels + h * headDim + d]!));
              }
              if (score > bestScore) [bestScore, bestBlock] = [score, k];
            }
          }
          return planned.filter((k) => !narrow || k === q || k === bestBlock);
        }),
      );
      const words = wordsPerRow(tokens);
      const bits = new Uint32Array(heads * tokens * words);
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < tokens; i++) {
          for (let j = 0; j < words * 32; j++) {
            if ((i + j + h) % 3 !== 1 || j === i) bits[(h * tokens + i) * words + (j >>> 5)]! |= 1 << (j & 31);
          }
        }
      }
      return { keyBlocks, keyMask: { perHead: true, bits } };
    },
  };
}

let engine: TransformerEngine;
beforeAll(async () => {
  engine = new TransformerEngine(new GpuContext(await nodeDevice()), config, weights);
  return () => engine.destroy();
});

/** A sliding window (no sinks) plans the lists; every layer then carries the probe. */
function probedPlan(listOutsidePlan = false): ExecutionPlan {
  const plan = buildPlan(config, ids.length, [{ id: 'sliding-window', params: { sinkTokens: 0, windowTokens: 40, fromLayer: 0, granularity: 'token' } }], {
    logitsRows: 'all', captureLayers: [0, 1, 2],
  });
  return { ...plan, layers: plan.layers.map((layer) => ({ ...layer, estimator: probeEstimator(layer, listOutsidePlan) })) };
}

describe('a GPU estimator', () => {
  it('chooses within the plan, matches its CPU twin through the forward, and is counted from what it wrote', async () => {
    const plan = probedPlan();
    const result = await engine.forward(plan, ids, { readAttention: [0, 1, 2] });
    expectMatchesCpuForward(result, plan, { config, weights, ids });
    const ran = countFlops(result.plan);
    expect(result.dispatchedMacs).toBe(ran.total.macs);
    // It narrowed every layer (the forward-scoped word reached layers 1 and 2), below the planned upper bound.
    const planned = countFlops(plan);
    ran.layers.forEach((layer, l) => expect(layer.executedPairs, `layer ${l}`).toBeLessThan(planned.layers[l]!.executedPairs));
    expect(ran.layers.every((layer) => layer.usefulPairs < layer.executedPairs)).toBe(true);
    expect(ran.layers[1]!.overhead).toEqual([{ technique: 'estimator-probe', macs: plan.layers[1]!.estimator!.cost.macs, intMacs: 0 }]);
    // Masked keys read as 0 in the captured map; the map knows which tiles were forced.
    const capture = result.attention[2]!;
    expect(capture.probs[(1 * ids.length + 20) * ids.length + 20]).toBeGreaterThan(0);
    expect(capture.probs[(0 * ids.length + 20) * ids.length + 17]).toBe(0);
    expect(capture.forcedTiles?.[0]).toBe(1);
  });

  it('writing a tile outside the plan is an error naming the technique', async () => {
    await expect(engine.forward(probedPlan(true), ids)).rejects.toThrow(/^estimator-probe listed .* for head 0, query block 0 of layer 0/);
  });
});
