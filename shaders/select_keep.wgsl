// Top-k keep mask by rank: token i is kept iff fewer than `keep` tokens outrank it. Ties go to the lower index,
// so the selection is deterministic (PyTorch's topk tie order is unspecified). O(n²) comparisons with no barriers:
// at n ≤ a few thousand this beats a bitonic sort on CPU adapters and is trivial on GPUs.

struct SelectParams {
  tokens: u32,
  keep: u32,
}

@group(0) @binding(0) var<storage, read> scores: array<f32>;
@group(0) @binding(1) var<storage, read_write> keep_mask: array<u32>;
@group(0) @binding(2) var<uniform> params: SelectParams;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= params.tokens) {
    return;
  }
  let mine = scores[i];
  var rank = 0u;
  for (var j = 0u; j < params.tokens; j++) {
    let other = scores[j];
    if (other > mine || (other == mine && j < i)) {
      rank++;
    }
  }
  keep_mask[i] = select(0u, 1u, rank < params.keep);
}
