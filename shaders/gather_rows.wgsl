// Scatter of kept rows to their compacted index: out[offsets[r]] = x[r] for each r with keep_mask[r] = 1, carrying
// each row's original position along.

struct GatherParams {
  tokens: u32,
  channels: u32,
}

@group(0) @binding(0) var<storage, read> keep_mask: array<u32>;
@group(0) @binding(1) var<storage, read> offsets: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> positions: array<i32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> out_positions: array<i32>;
@group(0) @binding(6) var<uniform> params: GatherParams;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let index = id.x + id.y * groups.x * 64u;
  if (index >= params.tokens * params.channels) {
    return;
  }
  let row = index / params.channels;
  if (keep_mask[row] == 0u) {
    return;
  }
  let c = index % params.channels;
  let target_row = offsets[row];
  out[target_row * params.channels + c] = x[index];
  if (c == 0u) {
    out_positions[target_row] = positions[row];
  }
}
