// LayerNorm over the channel axis, one thread per row (no barriers: CPU adapters run barrier-heavy kernels ~10×
// slower, ../shared/platform.md). Reads rows [row_offset, row_offset + rows) and writes rows [0, rows).

struct LayerNormParams {
  rows: u32,
  channels: u32,
  row_offset: u32,
  epsilon: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: LayerNormParams;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let row = id.x;
  if (row >= params.rows) {
    return;
  }
  let n = params.channels;
  let src = (row + params.row_offset) * n;
  var mean = 0.0;
  for (var c = 0u; c < n; c++) {
    mean += x[src + c];
  }
  mean /= f32(n);
  // Two passes (mean, then squared deviations) avoid the cancellation of E[x²] − E[x]².
  var variance = 0.0;
  for (var c = 0u; c < n; c++) {
    let d = x[src + c] - mean;
    variance += d * d;
  }
  variance /= f32(n);
  let inv_std = inverseSqrt(variance + params.epsilon);
  let dst = row * n;
  for (var c = 0u; c < n; c++) {
    out[dst + c] = (x[src + c] - mean) * inv_std * gamma[c] + beta[c];
  }
}
