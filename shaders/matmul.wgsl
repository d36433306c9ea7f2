// out[M, N] = epilogue(a[M, K] · w[K, N] + bias[N]) with w in GPT-2's Conv1D layout [in, out].
// Epilogues (override constants): ACTIVATION (GELU as GPT-2's tanh approximation "gelu_new", or exact erf GELU
// as ViT's "gelu"), then RESIDUAL: out = residual + dropout(result), the residual branch of a transformer block.
// Each thread owns a 4×4 register tile and loads w as vec4 along N: no shared memory and no barriers, the fastest
// shape on CPU adapters (../shared/platform.md); N must be a multiple of 4.
#include "random.wgsl"

const ACTIVATION_NONE = 0u;
const ACTIVATION_GELU_TANH = 1u;
const ACTIVATION_GELU_ERF = 2u;
override ACTIVATION: u32 = ACTIVATION_NONE;
override RESIDUAL: bool = false;
override DROPOUT: bool = false;

struct MatmulParams {
  m: u32,
  n: u32,
  k: u32,
  dropout_rate: f32,
  stream: DropoutStream,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> residual: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> params: MatmulParams;

fn gelu_tanh(x: vec4<f32>) -> vec4<f32> {
  let inner = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  // tanh saturates; clamping keeps exp() inside f32 range on every backend.
  return 0.5 * x * (1.0 + tanh(clamp(inner, vec4(-15.0), vec4(15.0))));
}

// WGSL has no erf: Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7 (src/engine/cpu/kernels.ts has the twin).
fn erf_approx(x: vec4<f32>) -> vec4<f32> {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}

fn gelu_erf(x: vec4<f32>) -> vec4<f32> {
  return 0.5 * x * (1.0 + erf_approx(x * 0.7071067811865476));
}

@compute @workgroup_size(16, 4)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let n4 = params.n / 4u;
  let col4 = id.x;
  let row0 = id.y * 4u;
  if (col4 >= n4 || row0 >= params.m) {
    return;
  }
  let rows = min(4u, params.m - row0);
  var acc: array<vec4<f32>, 4>;
  for (var kk = 0u; kk < params.k; kk++) {
    let wv = w[kk * n4 + col4];
    for (var r = 0u; r < rows; r++) {
      acc[r] += a[(row0 + r) * params.k + kk] * wv;
    }
  }
  let b = bias[col4];
  for (var r = 0u; r < rows; r++) {
    var v = acc[r] + b;
    if (ACTIVATION == ACTIVATION_GELU_TANH) {
      v = gelu_tanh(v);
    } else if (ACTIVATION == ACTIVATION_GELU_ERF) {
      v = gelu_erf(v);
    }
    let index = (row0 + r) * n4 + col4;
    if (RESIDUAL) {
      if (DROPOUT) {
        let first = index * 4u;
        v *= vec4(
          dropout_factor(params.stream, params.dropout_rate, 0u, first),
          dropout_factor(params.stream, params.dropout_rate, 0u, first + 1u),
          dropout_factor(params.stream, params.dropout_rate, 0u, first + 2u),
          dropout_factor(params.stream, params.dropout_rate, 0u, first + 3u));
      }
      v += residual[index];
    }
    out[index] = v;
  }
}
