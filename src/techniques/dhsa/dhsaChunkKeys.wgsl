// DHSA step B: k̂_c = (Σ_{t ∈ c} Σ_h K[t, h]) · 1/√|c|, one workgroup per chunk (the 1/H of the head average is a
// factor common to every chunk and is left out; 1/√n comes from a table so that the CPU twin is bit-exact).
#include "estimate.wgsl"
@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<uniform> shape: EstimateShape;
@group(0) @binding(2) var<storage, read_write> boundaries: array<u32>;
@group(0) @binding(3) var<storage, read> inverse_sqrt: array<f32>;
@group(0) @binding(4) var<storage, read_write> chunk_keys: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>) {
  let chunk = group.x;
  let chunks = boundaries[0] - 1u;
  if (chunk >= chunks) {
    return;
  }
  let start = boundaries[1u + chunk];
  let end = boundaries[2u + chunk];
  let channels = shape.heads * shape.head_dim;
  for (var e = local.x; e < shape.head_dim; e += 64u) {
    var sum = 0.0;
    for (var t = start; t < end; t++) {
      var heads = 0.0;
      for (var h = 0u; h < shape.heads; h++) {
        heads += qkv[t * 3u * channels + channels + h * shape.head_dim + e];
      }
      sum += heads;
    }
    chunk_keys[chunk * shape.head_dim + e] = sum * inverse_sqrt[end - start];
  }
}
