// Output head: out[M, V] = x[M, C] · w[V, C]ᵀ (+ bias[V]). GPT-2's LM head is tied to wte [V, C] and has no bias;
// a ViT classifier is an nn.Linear [labels, C] with a bias. Both operands are read as vec4 along C (C must be a
// multiple of 4); V may be any size (GPT-2's 50257 is odd), so the output is scalar.

override HAS_BIAS: bool = false;

struct LmHeadParams {
  m: u32,
  vocab: u32,
  channels: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> wte: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: LmHeadParams;

@compute @workgroup_size(16, 4)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let vocab0 = id.x * 4u;
  let row0 = id.y * 4u;
  if (vocab0 >= params.vocab || row0 >= params.m) {
    return;
  }
  let c4 = params.channels / 4u;
  let rows = min(4u, params.m - row0);
  let cols = min(4u, params.vocab - vocab0);
  var acc: array<array<f32, 4>, 4>;
  for (var k = 0u; k < c4; k++) {
    for (var v = 0u; v < cols; v++) {
      let e = wte[(vocab0 + v) * c4 + k];
      for (var r = 0u; r < rows; r++) {
        acc[r][v] += dot(x[(row0 + r) * c4 + k], e);
      }
    }
  }
  for (var r = 0u; r < rows; r++) {
    for (var v = 0u; v < cols; v++) {
      var value = acc[r][v];
      if (HAS_BIAS) {
        value += bias[vocab0 + v];
      }
      out[(row0 + r) * params.vocab + vocab0 + v] = value;
    }
  }
}
