// Block-sparse causal attention with an online softmax (flash-attention style).
// One workgroup per (query block, head that runs), one thread per query: `head_ids` lists the heads dispatched, so
// a masked head costs nothing (its output columns stay as the caller cleared them, 0). Each walks only the key
// blocks listed for its (head, query block): dense attention lists every causal block, a sparse method lists fewer, and a block that is
// not listed is never read. Inside a listed block the token-level mask still applies: query i sees key j when
// j ≤ i, or when j lies in the bidirectional prefix (all tokens for a ViT, the image tokens of a VLM), and, with a
// token window (TokenWindow in src/engine/plan.ts), only when j is a sink or |i − j| < window in the model's order.
// With KEY_MASK, an estimator's key mask (KeyTokenMask in src/engine/plan.ts) narrows each query row further, key by
// key. A query that sees no key gets output 0 (and probabilities 0), not NaN.
// Optional: CAPTURE writes the softmax probabilities (before dropout) to `probs` [heads, tokens, tokens], whose
// unlisted entries the caller has cleared to 0; DROPOUT applies inverted dropout to the probabilities.
#include "random.wgsl"

override CAPTURE: bool = false;
override DROPOUT: bool = false;
// 0: no key mask; 1: one mask all heads share; 2: a mask per head.
override KEY_MASK: u32 = 0u;
// Tile edge in tokens: ATTENTION_BLOCK of src/engine/plan.ts, the unit of the block lists, set by the caller (no
// default, so a pipeline without it fails to build rather than drift). A workgroup has BLOCK threads and BLOCK²
// words of scores; every device allows 256 threads and 16 KiB, so any BLOCK ≤ 64 fits.
override BLOCK: u32;
// head_dim ≤ 4 · MAX_HEAD_VEC4
const MAX_HEAD_VEC4 = 32u;
const NEG_INF = -3.0e38;

struct AttentionParams {
  tokens: u32,
  heads: u32,
  head_dim: u32,
  max_key_blocks: u32,
  scale: f32,
  dropout_rate: f32,
  bidirectional_prefix: u32,
  // The token window: the first window_sinks tokens and those closer than window_size; window_size 0 = none.
  window_sinks: u32,
  window_size: u32,
  // Row of the model's token 0, from which sinks and distances count (a ViT's CLS, which the engine keeps last).
  window_origin: u32,
  // Words per query row of the key mask.
  key_mask_words: u32,
  _pad0: u32,
  // A struct member of a uniform starts on 16 bytes: offset 48.
  stream: DropoutStream,
}

// qkv rows are GPT-2's fused c_attn output: [q (C) | k (C) | v (C)], head h at columns h·head_dim of each part.
@group(0) @binding(0) var<storage, read> qkv: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> block_counts: array<u32>;
@group(0) @binding(2) var<storage, read> block_indices: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> probs: array<f32>;
@group(0) @binding(5) var<uniform> params: AttentionParams;
@group(0) @binding(6) var<storage, read> head_ids: array<u32>;
@group(0) @binding(7) var<storage, read> key_mask: array<u32>;

// Each thread's scores of the current key block, one column per thread (neighbouring threads write neighbouring
// words). Workgroup memory because only there may an array be sized by an override constant.
var<workgroup> scores: array<f32, BLOCK * BLOCK>;

// End (exclusive) of the keys the base mask lets query i see in the block starting at key_start: a prefix of it.
fn base_end(key_start: u32, i: u32) -> u32 {
  return min(min(key_start + BLOCK, params.tokens), max(i + 1u, params.bidirectional_prefix));
}

// The model's own index of a row (TokenMask.firstTokenRow in src/engine/plan.ts).
fn token_index(row: u32) -> u32 {
  return (row + params.tokens - params.window_origin) % params.tokens;
}

// Twin of keyVisible in src/engine/plan.ts past the base mask: the key mask, then the token window.
fn in_window(head: u32, i: u32, j: u32) -> bool {
  if (KEY_MASK != 0u) {
    let mask_head = select(0u, head, KEY_MASK == 2u);
    let word = key_mask[(mask_head * params.tokens + i) * params.key_mask_words + j / 32u];
    if (((word >> (j % 32u)) & 1u) == 0u) {
      return false;
    }
  }
  if (params.window_size == 0u) {
    return true;
  }
  let key = token_index(j);
  let query = token_index(i);
  return key < params.window_sinks || max(query, key) - min(query, key) < params.window_size;
}

@compute @workgroup_size(BLOCK)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>) {
  let query_block = group.x;
  let head = head_ids[group.y];
  let i = query_block * BLOCK + local.x;
  if (i >= params.tokens) {
    return;
  }
  let d4 = params.head_dim / 4u;
  let c4 = params.heads * d4;
  let row4 = 3u * c4;
  let head4 = head * d4;

  var q: array<vec4<f32>, MAX_HEAD_VEC4>;
  var acc: array<vec4<f32>, MAX_HEAD_VEC4>;
  for (var d = 0u; d < d4; d++) {
    q[d] = qkv[i * row4 + head4 + d] * params.scale;
  }

  let slot = head * ((params.tokens + BLOCK - 1u) / BLOCK) + query_block;
  let count = block_counts[slot];
  var running_max = NEG_INF;
  var running_sum = 0.0;
  for (var b = 0u; b < count; b++) {
    let key_start = block_indices[slot * params.max_key_blocks + b] * BLOCK;
    let key_end = base_end(key_start, i);
    var block_max = NEG_INF;
    var any_visible = false;
    for (var j = key_start; j < key_end; j++) {
      if (!in_window(head, i, j)) {
        continue;
      }
      var s = 0.0;
      for (var d = 0u; d < d4; d++) {
        s += dot(q[d], qkv[j * row4 + c4 + head4 + d]);
      }
      scores[(j - key_start) * BLOCK + local.x] = s;
      block_max = max(block_max, s);
      any_visible = true;
    }
    if (!any_visible) {
      continue;
    }
    // Rescale once per block, not once per key.
    let new_max = max(running_max, block_max);
    let correction = exp(running_max - new_max);
    running_sum *= correction;
    for (var d = 0u; d < d4; d++) {
      acc[d] *= correction;
    }
    for (var j = key_start; j < key_end; j++) {
      if (!in_window(head, i, j)) {
        continue;
      }
      let e = exp(scores[(j - key_start) * BLOCK + local.x] - new_max);
      running_sum += e;
      var weight = e;
      if (DROPOUT) {
        weight *= dropout_factor(params.stream, params.dropout_rate, head, i * params.tokens + j);
      }
      for (var d = 0u; d < d4; d++) {
        acc[d] += weight * qkv[j * row4 + 2u * c4 + head4 + d];
      }
    }
    running_max = new_max;
  }

  // Only a query that saw no key has running_sum 0 (the largest score of any other contributes exp(0) = 1).
  let inv_sum = select(0.0, 1.0 / running_sum, running_sum > 0.0);
  for (var d = 0u; d < d4; d++) {
    out[i * c4 + head4 + d] = acc[d] * inv_sum;
  }

  if (CAPTURE) {
    let row = (head * params.tokens + i) * params.tokens;
    for (var b = 0u; b < count; b++) {
      let key_start = block_indices[slot * params.max_key_blocks + b] * BLOCK;
      let key_end = base_end(key_start, i);
      for (var j = key_start; j < key_end; j++) {
        if (!in_window(head, i, j)) {
          continue;
        }
        var s = 0.0;
        for (var d = 0u; d < d4; d++) {
          s += dot(q[d], qkv[j * row4 + c4 + head4 + d]);
        }
        probs[row + j] = exp(s - running_max) * inv_sum;
      }
    }
  }
}
