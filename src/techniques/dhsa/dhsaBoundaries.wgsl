// DHSA step A, part 2 (ALGORITHM.md): the forced instruction boundary t_I = L − I, then greedy NMS over z > 0 in
// descending z (ties: lower t), skipping t > t_I, until N_c are kept. Writes the boundaries [count, b_0 = 0, …, L]
// to the forward-scoped scratch every later layer reads. One workgroup: each of the N_c steps is an argmax over
// the open candidates by 256 threads (each scanning ascending, then a tree reduction, ties to the lower t).
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

const LANES = 256u;
var<workgroup> best_t: array<u32, LANES>;
var<workgroup> best_z: array<f32, LANES>;

// Whether candidate a (t = tokens: none) comes before b: higher z, ties to the lower t.
fn before(ta: u32, za: f32, tb: u32, zb: f32) -> bool {
  return ta != shape.tokens && (tb == shape.tokens || za > zb || (za == zb && ta < tb));
}

@compute @workgroup_size(LANES)
fn main(@builtin(local_invocation_id) local: vec3<u32>) {
  let lane = local.x;
  let tokens = shape.tokens;
  // kept[t]: 0 open, 1 suppressed, 2 kept.
  for (var t = lane; t < tokens; t += LANES) {
    kept[t] = 0u;
  }
  storageBarrier();
  workgroupBarrier();
  if (tokens > INSTRUCTION) {
    let forced = tokens - INSTRUCTION;
    let wanted = (tokens / 32u) * CHUNKS;
    if (lane == 0u) {
      suppress(forced);
    }
    storageBarrier();
    workgroupBarrier();
    for (var count = 1u; count < wanted; count++) {
      var mine = tokens;
      var mine_z = 0.0;
      for (var t = lane; t <= forced; t += LANES) {
        if (kept[t] == 0u && z[t] > 0.0 && before(t, z[t], mine, mine_z)) {
          mine = t;
          mine_z = z[t];
        }
      }
      best_t[lane] = mine;
      best_z[lane] = mine_z;
      workgroupBarrier();
      for (var stride = LANES / 2u; stride > 0u; stride /= 2u) {
        if (lane < stride && before(best_t[lane + stride], best_z[lane + stride], best_t[lane], best_z[lane])) {
          best_t[lane] = best_t[lane + stride];
          best_z[lane] = best_z[lane + stride];
        }
        workgroupBarrier();
      }
      let best = workgroupUniformLoad(&best_t[0]);
      if (best == tokens) {
        break;
      }
      if (lane == 0u) {
        suppress(best);
      }
      storageBarrier();
      workgroupBarrier();
    }
  }
  if (lane == 0u) {
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
}
