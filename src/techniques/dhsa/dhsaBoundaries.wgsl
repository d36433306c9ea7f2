// DHSA step A, part 2 (ALGORITHM.md): the forced instruction boundary t_I = L − I, then greedy NMS over z > 0 in
// descending z (ties: lower t), skipping t > t_I, until N_c are kept. Writes the boundaries [count, b_0 = 0, …, L]
// to the forward-scoped scratch every later layer reads. One thread: N_c · L steps.
#include "estimate.wgsl"
@group(0) @binding(0) var<uniform> shape: EstimateShape;
@group(0) @binding(1) var<storage, read_write> z: array<f32>;
@group(0) @binding(2) var<storage, read_write> kept: array<u32>;
@group(0) @binding(3) var<storage, read_write> boundaries: array<u32>;
override INSTRUCTION: u32 = 16u;
override NMS_WINDOW: u32 = 4u;
override CHUNKS: u32 = 4u;

fn suppress(center: u32) {
  let first = select(0u, center - NMS_WINDOW, center >= NMS_WINDOW);
  for (var t = first; t <= center + NMS_WINDOW && t < shape.tokens; t++) {
    kept[t] = max(kept[t], 1u);
  }
  kept[center] = 2u;
}

@compute @workgroup_size(1)
fn main() {
  let tokens = shape.tokens;
  // kept[t]: 0 open, 1 suppressed, 2 kept.
  for (var t = 0u; t < tokens; t++) {
    kept[t] = 0u;
  }
  if (tokens > INSTRUCTION) {
    let forced = tokens - INSTRUCTION;
    let wanted = (tokens / 32u) * CHUNKS;
    suppress(forced);
    var count = 1u;
    loop {
      if (count >= wanted) {
        break;
      }
      var best = tokens;
      var best_z = 0.0;
      for (var t = 0u; t <= forced; t++) {
        if (kept[t] == 0u && z[t] > 0.0 && (best == tokens || z[t] > best_z)) {
          best = t;
          best_z = z[t];
        }
      }
      if (best == tokens) {
        break;
      }
      suppress(best);
      count++;
    }
  }
  var n = 1u;
  boundaries[1] = 0u;
  for (var t = 0u; t < tokens; t++) {
    if (kept[t] == 2u) {
      n++;
      boundaries[n] = t + 1u;
    }
  }
  n++;
  boundaries[n] = tokens;
  boundaries[0] = n;
}
