/**
 * A tiny GPU-estimated technique for testing tools generic over the registry (the selections CLI, the attention
 * bench) before a real one is registered: per (head, query block) it keeps the planned key blocks 0 and the diagonal,
 * and a shared key mask lets query i see key j when (i + j) is even or j = i.
 */
import { blockCount, wordsPerRow, type BlockEstimator, type KeyBlockLists } from '../engine/plan';
import type { EstimatorContext, Technique } from '../techniques/types';

const PROBE_WGSL = /* wgsl */ `
#include "estimate.wgsl"
@group(0) @binding(0) var<storage, read> allowed_counts: array<u32>;
@group(0) @binding(1) var<storage, read> allowed_indices: array<u32>;
@group(0) @binding(2) var<storage, read_write> counts: array<u32>;
@group(0) @binding(3) var<storage, read_write> indices: array<u32>;
@group(0) @binding(4) var<storage, read_write> key_mask: array<u32>;
@group(0) @binding(5) var<uniform> shape: EstimateShape;

@compute @workgroup_size(1)
fn main(@builtin(workgroup_id) group: vec3<u32>) {
  let query_block = group.x;
  let head = group.y;
  let slot = list_slot(shape, head, query_block);
  var count = 0u;
  for (var b = 0u; b < allowed_counts[slot]; b++) {
    let key_block = allowed_indices[slot * shape.max_key_blocks + b];
    if (key_block == 0u || key_block == query_block) {
      indices[slot * shape.max_key_blocks + count] = key_block;
      count++;
    }
  }
  counts[slot] = count;
  if (head != 0u) { return; }
  let words = key_mask_words(shape);
  for (var i = query_block * shape.block; i < min((query_block + 1u) * shape.block, shape.tokens); i++) {
    for (var w = 0u; w < words; w++) {
      var bits = 0u;
      for (var bit = 0u; bit < 32u; bit++) {
        let j = w * 32u + bit;
        if ((i + j) % 2u == 0u || j == i) { bits |= 1u << bit; }
      }
      key_mask[i * words + w] = bits;
    }
  }
}
`;

export const PROBE_ID = 'estimator-probe';

function probeEstimator(context: EstimatorContext): BlockEstimator {
  const { tokens } = context;
  const queryBlocks = blockCount(tokens);
  return {
    technique: PROBE_ID,
    passes: [{
      label: 'block 0 and diagonal',
      source: () => PROBE_WGSL,
      constants: {},
      bindings: ['allowedCounts', 'allowedIndices', 'counts', 'indices', 'keyMask', 'shape'],
      workgroups: [queryBlocks, context.config.n_head],
    }],
    scratch: {},
    data: {},
    keyMask: 'shared',
    cost: { macs: 0, intMacs: tokens },
    forced: context.planned.map((head) => head.map((_, q) => [q])),
    reference: (_qkv, allowed) => {
      const keyBlocks: KeyBlockLists = allowed.map((head) => head.map((planned, q) => planned.filter((k) => k === 0 || k === q)));
      const words = wordsPerRow(tokens);
      const bits = new Uint32Array(tokens * words);
      for (let i = 0; i < tokens; i++) {
        for (let j = 0; j < words * 32; j++) if ((i + j) % 2 === 0 || j === i) bits[i * words + (j >>> 5)]! |= 1 << (j & 31);
      }
      return { keyBlocks, keyMask: { perHead: false, bits } };
    },
  };
}

export const estimatorProbe: Technique = {
  id: PROBE_ID,
  label: 'Estimator probe (tests only)',
  family: 'sparse-attention',
  summary: 'Keeps key block 0 and the diagonal, chosen on the GPU; a shared key mask keeps every other key.',
  paper: { title: 'none', authors: 'none', venue: 'none', url: 'https://arxiv.org/abs/0000.00000' },
  spec: 'none',
  params: [],
  estimateKeyBlocks: (context) => probeEstimator(context),
};
