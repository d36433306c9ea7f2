// Image tokens: row p is patch p (row-major over the patch grid), embedded by the stride-`patch` convolution written
// as a dot product over the patch's pixels; with HAS_CLS a ViT's CLS token follows as the last row (attention is
// bidirectional over the image, so the row order does not change the result, and the output row is then the last,
// as for text models). Every row adds its learned position embedding, then optional embedding dropout.
#include "random.wgsl"

override DROPOUT: bool = false;
override HAS_CLS: bool = false;

struct PatchEmbedParams {
  channels: u32,
  patch_size: u32,
  // Patches per image side; the image is grid·patch pixels square.
  grid: u32,
  image_channels: u32,
  dropout_rate: f32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  stream: DropoutStream,
}

// pixels: [image_channels, grid·patch, grid·patch], already normalised.
@group(0) @binding(0) var<storage, read> pixels: array<f32>;
// weight: [image_channels·patch·patch, channels], i.e. the convolution kernel [out, in, dy, dx] transposed to [in·dy·dx, out].
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> cls: array<f32>;
// positions: [rows, channels] in the same row order (patches, then CLS).
@group(0) @binding(4) var<storage, read> positions: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<uniform> params: PatchEmbedParams;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let index = id.x + id.y * groups.x * 64u;
  let patches = params.grid * params.grid;
  let rows = patches + select(0u, 1u, HAS_CLS);
  if (index >= rows * params.channels) {
    return;
  }
  let p = index / params.channels;
  let c = index % params.channels;
  var value: f32;
  if (p == patches) {
    value = cls[c];
  } else {
    let top = (p / params.grid) * params.patch_size;
    let left = (p % params.grid) * params.patch_size;
    let side = params.grid * params.patch_size;
    value = bias[c];
    for (var ch = 0u; ch < params.image_channels; ch++) {
      for (var dy = 0u; dy < params.patch_size; dy++) {
        for (var dx = 0u; dx < params.patch_size; dx++) {
          let pixel = pixels[(ch * side + top + dy) * side + left + dx];
          value += pixel * weight[((ch * params.patch_size + dy) * params.patch_size + dx) * params.channels + c];
        }
      }
    }
  }
  value += positions[index];
  if (DROPOUT) {
    value *= dropout_factor(params.stream, params.dropout_rate, 0u, index);
  }
  out[index] = value;
}
