// DHSA step A, part 1 (ALGORITHM.md): z_t = 1 − cos(left, right) of the window means of layer 0's keys (all heads,
// f_t = K_t of C = heads · head_dim channels); −100 at the edges. One thread per token t.
#include "estimate.wgsl"
@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<uniform> shape: EstimateShape;
@group(0) @binding(2) var<storage, read_write> z: array<f32>;
override WINDOW: u32 = 4u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let t = id.x;
  let tokens = shape.tokens;
  if (t >= tokens) {
    return;
  }
  if (t + 1u < WINDOW || t + WINDOW >= tokens) {
    z[t] = -100.0;
    return;
  }
  let channels = shape.heads * shape.head_dim;
  var dot = 0.0;
  var left_norm = 0.0;
  var right_norm = 0.0;
  for (var c = 0u; c < channels; c++) {
    var left = 0.0;
    var right = 0.0;
    for (var s = 0u; s < WINDOW; s++) {
      left += qkv[(t + 1u - WINDOW + s) * 3u * channels + channels + c];
      right += qkv[(t + 1u + s) * 3u * channels + channels + c];
    }
    left = left / f32(WINDOW);
    right = right / f32(WINDOW);
    dot += left * right;
    left_norm += left * left;
    right_norm += right * right;
  }
  var cosine = 0.0;
  if (left_norm > 0.0 && right_norm > 0.0) {
    cosine = dot / (sqrt(left_norm) * sqrt(right_norm));
  }
  z[t] = 1.0 - cosine;
}
