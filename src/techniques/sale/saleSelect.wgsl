// SALE pass 3 (ALGORITHM.md steps 3–8): one workgroup per (32-row query block, head), one thread per row. Each row
// finds m_i and ℓ_i over the reference region from exact logits, then estimates the middle blocks with the int4 dot
// (dot_i4, chosen by the adapter's features) segment by segment; a block is kept when any row's estimate reaches its
// threshold. Both 16-row tiles of the block get reference ∪ kept, within their planned lists.
#include "estimate.wgsl"
@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> allowed_counts: array<u32>;
@group(0) @binding(2) var<storage, read> allowed_indices: array<u32>;
@group(0) @binding(3) var<storage, read_write> counts: array<u32>;
@group(0) @binding(4) var<storage, read_write> indices: array<u32>;
@group(0) @binding(5) var<uniform> shape: EstimateShape;
@group(0) @binding(6) var<storage, read_write> packed: array<u32>;
@group(0) @binding(7) var<storage, read_write> scales: array<f32>;
// [λ, √d, τ_0 … τ_{H−1}]
@group(0) @binding(8) var<storage, read> thresholds: array<f32>;

// One-pass: the threshold follows the running (m_i, ℓ_i) through the kept middle blocks.
override ONE_PASS: bool = false;
const MAX_KEY_BLOCKS: u32 = 128u;
var<workgroup> kept: array<atomic<u32>, 4>;

fn visible(i: u32, j: u32) -> bool {
  return j <= i || j < shape.bidirectional_prefix;
}

// s_ij = Q_i · K′_j, in channel order.
fn exact_logit(head: u32, i: u32, j: u32) -> f32 {
  let d = shape.head_dim;
  let channels = shape.heads * d;
  let means = 3u * shape.tokens * shape.heads + head * 2u * d;
  var acc = 0.0;
  for (var ch = 0u; ch < d; ch++) {
    let k = qkv[j * 3u * channels + channels + head * d + ch] - scales[means + d + ch];
    acc = acc + qkv[i * 3u * channels + head * d + ch] * k;
  }
  return acc;
}

// ŝ_ij = (s_q,i · s_k,j) · (q̂_i · k̂_j) + c_j.
fn estimated_logit(head: u32, i: u32, j: u32) -> f32 {
  let rows = shape.tokens * shape.heads;
  let words = (shape.head_dim + 3u) / 4u;
  let q_slot = i * shape.heads + head;
  let k_slot = j * shape.heads + head;
  var acc = 0i;
  for (var w = 0u; w < words; w++) {
    acc += dot_i4(packed[q_slot * words + w], packed[rows * words + k_slot * words + w]);
  }
  let scale = scales[q_slot] * scales[rows + k_slot];
  return scale * f32(acc) + scales[2u * rows + k_slot];
}

fn is_kept(k: u32) -> bool {
  return ((atomicLoad(&kept[k / 32u]) >> (k % 32u)) & 1u) == 1u;
}

@compute @workgroup_size(32)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>) {
  let query_block = group.x;
  let head = group.y;
  let i = query_block * 32u + local.x;
  let in_range = i < shape.tokens;
  let key_blocks = shape.max_key_blocks;
  let lambda = thresholds[0];
  let sqrt_d = thresholds[1];
  let tau = thresholds[2u + head];
  let dense = tau < 1e-5;
  if (local.x < 4u) {
    atomicStore(&kept[local.x], 0u);
  }
  workgroupBarrier();

  var m = -3.0e38;
  var l = 0.0;
  if (in_range) {
    for (var k = 0u; k < key_blocks; k++) {
      if (sale_region(shape, query_block, k) != 1u) {
        continue;
      }
      for (var j = k * shape.block; j < min((k + 1u) * shape.block, shape.tokens); j++) {
        if (visible(i, j)) {
          m = max(m, exact_logit(head, i, j));
        }
      }
    }
    for (var k = 0u; k < key_blocks; k++) {
      if (sale_region(shape, query_block, k) != 1u) {
        continue;
      }
      for (var j = k * shape.block; j < min((k + 1u) * shape.block, shape.tokens); j++) {
        if (visible(i, j)) {
          l = l + exp((exact_logit(head, i, j) - m) * lambda);
        }
      }
    }
  }
  var t = m + log(tau * l) * sqrt_d;

  var in_segment = 0u;
  var segment_start = 0u;
  for (var k = 0u; k < key_blocks; k++) {
    if (sale_region(shape, query_block, k) != 2u) {
      continue;
    }
    if (in_segment == 0u) {
      segment_start = k;
    }
    if (dense) {
      if (local.x == 0u) {
        atomicOr(&kept[k / 32u], 1u << (k % 32u));
      }
    } else if (in_range) {
      var best = -3.0e38;
      for (var j = k * shape.block; j < min((k + 1u) * shape.block, shape.tokens); j++) {
        if (visible(i, j)) {
          best = max(best, estimated_logit(head, i, j));
        }
      }
      if (best > t) {
        atomicOr(&kept[k / 32u], 1u << (k % 32u));
      }
    }
    in_segment++;
    if (ONE_PASS && in_segment == 4u) {
      in_segment = 0u;
      workgroupBarrier();
      if (in_range && !dense) {
        for (var kk = segment_start; kk <= k; kk++) {
          if (sale_region(shape, query_block, kk) != 2u || !is_kept(kk)) {
            continue;
          }
          var block_max = -3.0e38;
          for (var j = kk * shape.block; j < min((kk + 1u) * shape.block, shape.tokens); j++) {
            if (visible(i, j)) {
              block_max = max(block_max, exact_logit(head, i, j));
            }
          }
          let m_new = max(m, block_max);
          var sum = l * exp((m - m_new) * lambda);
          for (var j = kk * shape.block; j < min((kk + 1u) * shape.block, shape.tokens); j++) {
            if (visible(i, j)) {
              sum = sum + exp((exact_logit(head, i, j) - m_new) * lambda);
            }
          }
          l = sum;
          m = m_new;
        }
        t = m + log(tau * l) * sqrt_d;
      }
    }
  }
  workgroupBarrier();

  let tile = 2u * query_block + local.x;
  if (local.x < 2u && tile < key_blocks) {
    let slot = list_slot(shape, head, tile);
    var count = 0u;
    for (var p = 0u; p < allowed_counts[slot]; p++) {
      let k = allowed_indices[slot * key_blocks + p];
      let region = sale_region(shape, query_block, k);
      if (region == 1u || (region == 2u && is_kept(k))) {
        indices[slot * key_blocks + count] = k;
        count++;
      }
    }
    counts[slot] = count;
  }
}
