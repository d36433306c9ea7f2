// SALE pass 2 (ALGORITHM.md steps 1–2): per (token, head), Q′ = Q − q̄ and K′ = K − k̄ quantised per token to
// symmetric int4 (stored as int8 lanes, four per u32), their scales, and c_j = q̄ · K′_j.
#include "estimate.wgsl"
@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<uniform> shape: EstimateShape;
// [Q̂ (T·H·W) | K̂ (T·H·W)], W = ⌈d / 4⌉ words per row.
@group(0) @binding(2) var<storage, read_write> packed: array<u32>;
@group(0) @binding(3) var<storage, read_write> scales: array<f32>;

// x̂ = clamp(round_half_even(x · r), −7, 7) with r = 7 / max|x| (the authors' order); a zero row gives zeros.
fn quantise(x: f32, r: f32, x_max: f32) -> u32 {
  if (x_max == 0.0) {
    return 0u;
  }
  let v = i32(clamp(round(x * r), -7.0, 7.0));
  return bitcast<u32>(v) & 0xffu;
}

@compute @workgroup_size(1)
fn main(@builtin(workgroup_id) group: vec3<u32>) {
  let t = group.x;
  let head = group.y;
  let d = shape.head_dim;
  let channels = shape.heads * d;
  let rows = shape.tokens * shape.heads;
  let words = (d + 3u) / 4u;
  let means = 3u * rows + head * 2u * d;
  let base = t * 3u * channels + head * d;
  var q_max = 0.0;
  var k_max = 0.0;
  var c_j = 0.0;
  for (var ch = 0u; ch < d; ch++) {
    let q = qkv[base + ch] - scales[means + ch];
    let k = qkv[base + channels + ch] - scales[means + d + ch];
    q_max = max(q_max, abs(q));
    k_max = max(k_max, abs(k));
    c_j = c_j + scales[means + ch] * k;
  }
  let q_r = 7.0 / q_max;
  let k_r = 7.0 / k_max;
  var q_scale = 0.0;
  var k_scale = 0.0;
  if (q_max != 0.0) {
    q_scale = 1.0 / q_r;
  }
  if (k_max != 0.0) {
    k_scale = 1.0 / k_r;
  }
  let slot = t * shape.heads + head;
  scales[slot] = q_scale;
  scales[rows + slot] = k_scale;
  scales[2u * rows + slot] = c_j;
  for (var w = 0u; w < words; w++) {
    var q_word = 0u;
    var k_word = 0u;
    for (var lane = 0u; lane < 4u; lane++) {
      let ch = 4u * w + lane;
      if (ch < d) {
        q_word |= quantise(qkv[base + ch] - scales[means + ch], q_r, q_max) << (8u * lane);
        k_word |= quantise(qkv[base + channels + ch] - scales[means + d + ch], k_r, k_max) << (8u * lane);
      }
    }
    packed[slot * words + w] = q_word;
    packed[rows * words + slot * words + w] = k_word;
  }
}
