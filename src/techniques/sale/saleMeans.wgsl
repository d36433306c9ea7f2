// SALE pass 1 (ALGORITHM.md step 1): per head, the means q̄ and k̄ over all tokens. One workgroup per head, one
// thread per channel, each summing its tokens in order (the CPU twin's order).
#include "estimate.wgsl"
@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<uniform> shape: EstimateShape;
// [q scales (T·H) | k scales (T·H) | c_j (T·H) | means: per head q̄ (d) then k̄ (d)]
@group(0) @binding(2) var<storage, read_write> scales: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>) {
  let head = group.x;
  let c = local.x;
  let d = shape.head_dim;
  let channels = shape.heads * d;
  let means = 3u * shape.tokens * shape.heads + head * 2u * d;
  for (var ch = c; ch < d; ch += 64u) {
    var q_sum = 0.0;
    var k_sum = 0.0;
    for (var t = 0u; t < shape.tokens; t++) {
      let row = t * 3u * channels + head * d + ch;
      q_sum = q_sum + qkv[row];
      k_sum = k_sum + qkv[row + channels];
    }
    scales[means + ch] = q_sum / f32(shape.tokens);
    scales[means + d + ch] = k_sum / f32(shape.tokens);
  }
}
