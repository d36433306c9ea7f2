// FastV score of each token j from the previous layer's attention probabilities (FastV, ECCV'24):
//   last query: s_j = mean_h A[h, n-1, j]                        (the authors' code)
//   all queries: s_j = mean_h (1/n) Σ_{i sees j} A[h, i, j]     (the paper's φ_j)
// Query i sees key j when j ≤ i or j < bidirectional_prefix, the mask the probabilities were computed under
// (0: causal; n: a ViT; the image tokens: a VLM). Every query sees a prefix key, so on a ViT or a VLM's image
// tokens the earlier queries' attention counts too; only the queries that can see j are read.
// The last protected_tail tokens (the prediction query; in a VLM the whole instruction) must survive: they score +max.
// Both counts are uniforms, not override constants, so one pipeline serves every question length.

override ALL_QUERIES: u32 = 0u;

struct ScoreShape {
  heads: u32,
  tokens: u32,
  protected_tail: u32,
  bidirectional_prefix: u32,
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
  if (j + shape.protected_tail >= n) {
    scores[j] = PROTECTED;
    return;
  }
  let first_query = select(j, 0u, j < shape.bidirectional_prefix);
  var total = 0.0;
  for (var h = 0u; h < shape.heads; h++) {
    let head = h * n * n;
    if (ALL_QUERIES == 1u) {
      for (var i = first_query; i < n; i++) {
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
