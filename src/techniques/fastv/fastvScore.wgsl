// FastV score of each token j from the previous layer's attention probabilities (FastV, ECCV'24):
//   last query: s_j = mean_h A[h, n-1, j]                 (the authors' code)
//   all queries: s_j = mean_h (1/n) Σ_i A[h, i, j]        (the paper's φ_j)
// The last PROTECTED_TAIL tokens (the prediction query; in a VLM the whole instruction) must survive: they score +max.
// Queries i ≥ j are summed for "all queries": the ones a causal token j is visible to; with a bidirectional prefix
// the earlier image queries also see j, but FastV's φ_j is defined on the causal decoder, so they are left out.

override ALL_QUERIES: u32 = 0u;
override PROTECTED_TAIL: u32 = 1u;

struct ScoreShape {
  heads: u32,
  tokens: u32,
}

@group(0) @binding(0) var<storage, read> probs: array<f32>;
@group(0) @binding(1) var<storage, read_write> scores: array<f32>;
@group(0) @binding(2) var<uniform> shape: ScoreShape;

const PROTECTED = 3.0e38;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let j = id.x;
  let n = shape.tokens;
  if (j >= n) {
    return;
  }
  if (j + PROTECTED_TAIL >= n) {
    scores[j] = PROTECTED;
    return;
  }
  var total = 0.0;
  for (var h = 0u; h < shape.heads; h++) {
    let head = h * n * n;
    if (ALL_QUERIES == 1u) {
      // Causal: only queries i ≥ j can attend to j.
      for (var i = j; i < n; i++) {
        total += probs[head + i * n + j];
      }
    } else {
      total += probs[head + (n - 1u) * n + j];
    }
  }
  if (ALL_QUERIES == 1u) {
    total /= f32(n);
  }
  scores[j] = total / f32(shape.heads);
}
