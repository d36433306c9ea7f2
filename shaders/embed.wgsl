// Token + learned position embedding: out[row_offset + t, c] = wte[ids[t], c] + wpe[t, c], with optional embedding
// dropout. A VLM's text follows its image tokens, so its rows start at row_offset while its positions start at 0.
#include "random.wgsl"

override DROPOUT: bool = false;

struct EmbedParams {
  tokens: u32,
  channels: u32,
  dropout_rate: f32,
  row_offset: u32,
  stream: DropoutStream,
}

@group(0) @binding(0) var<storage, read> ids: array<u32>;
@group(0) @binding(1) var<storage, read> wte: array<f32>;
@group(0) @binding(2) var<storage, read> wpe: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: EmbedParams;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let index = id.x + id.y * groups.x * 64u;
  if (index >= params.tokens * params.channels) {
    return;
  }
  let t = index / params.channels;
  let c = index % params.channels;
  let row = params.row_offset * params.channels + index;
  var value = wte[ids[t] * params.channels + c] + wpe[index];
  if (DROPOUT) {
    value *= dropout_factor(params.stream, params.dropout_rate, 0u, row);
  }
  out[row] = value;
}
