// DHSA steps B and C (ALGORITHM.md): one workgroup per 32-row query block. It scores the chunks against the block's
// summed query, takes the best chunks whole (ties to the lower chunk, which is "ties to the lower token" as chunks
// are contiguous) until N_b − local tokens, the lowest tokens of the last chunk taken, adds the recent keys, swaps
// the lowest `GLOBAL` picks for the global tokens, then writes the block's key-mask rows and every head's lists.
#include "estimate.wgsl"
@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> allowed_counts: array<u32>;
@group(0) @binding(2) var<storage, read> allowed_indices: array<u32>;
@group(0) @binding(3) var<storage, read_write> counts: array<u32>;
@group(0) @binding(4) var<storage, read_write> indices: array<u32>;
@group(0) @binding(5) var<storage, read_write> key_mask: array<u32>;
@group(0) @binding(6) var<uniform> shape: EstimateShape;
@group(0) @binding(7) var<storage, read_write> boundaries: array<u32>;
@group(0) @binding(8) var<storage, read_write> chunk_keys: array<f32>;
override BUDGET: u32 = 128u;
override LOCAL: u32 = 32u;
override GLOBAL: u32 = 16u;
override INSTRUCTION: u32 = 16u;
const QUERY_BLOCK = 32u;
const MAX_HEAD_DIM = 256u;
const MAX_CHUNKS = 1025u;

var<workgroup> query: array<f32, MAX_HEAD_DIM>;
var<workgroup> scores: array<f32, MAX_CHUNKS>;
var<workgroup> picked: array<atomic<u32>, 32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>) {
  let block = group.x;
  let lane = local.x;
  let tokens = shape.tokens;
  let channels = shape.heads * shape.head_dim;
  let words = key_mask_words(shape);
  let selection_rows = select(0u, tokens - INSTRUCTION, tokens > INSTRUCTION);
  let first_row = block * QUERY_BLOCK;
  let rows_end = min(first_row + QUERY_BLOCK, selection_rows);
  let allowed = min(max(first_row + QUERY_BLOCK, shape.bidirectional_prefix), tokens);
  let selecting = rows_end > first_row && allowed > BUDGET;
  let others = select(0u, allowed - min(LOCAL, BUDGET), selecting);
  let take = BUDGET - min(LOCAL, BUDGET);
  let chunks = boundaries[0] - 1u;

  if (lane < 32u) {
    atomicStore(&picked[lane], 0u);
  }
  // The block's query, summed over its selection rows and the heads.
  for (var e = lane; e < shape.head_dim; e += 64u) {
    var sum = 0.0;
    if (selecting) {
      for (var i = first_row; i < rows_end; i++) {
        var heads = 0.0;
        for (var h = 0u; h < shape.heads; h++) {
          heads += qkv[i * 3u * channels + h * shape.head_dim + e];
        }
        sum += heads;
      }
    }
    query[e] = sum;
  }
  workgroupBarrier();
  for (var c = lane; c < chunks; c += 64u) {
    var score = 0.0;
    if (selecting && boundaries[1u + c] < others) {
      for (var e = 0u; e < shape.head_dim; e++) {
        score += query[e] * chunk_keys[c * shape.head_dim + e];
      }
    }
    scores[c] = score;
  }
  workgroupBarrier();
  // Chunk c's tokens come after every chunk scoring higher, or as high and earlier.
  for (var c = lane; c < chunks; c += 64u) {
    let start = boundaries[1u + c];
    if (selecting && start < others) {
      var before = 0u;
      for (var o = 0u; o < chunks; o++) {
        let other_start = boundaries[1u + o];
        if (other_start < others && (scores[o] > scores[c] || (scores[o] == scores[c] && o < c))) {
          before += min(boundaries[2u + o], others) - other_start;
        }
      }
      let size = min(boundaries[2u + c], others) - start;
      let taken = min(size, take - min(take, before));
      for (var j = start; j < start + taken; j++) {
        atomicOr(&picked[j / 32u], 1u << (j % 32u));
      }
    }
  }
  if (selecting) {
    for (var j = others + lane; j < allowed; j += 64u) {
      atomicOr(&picked[j / 32u], 1u << (j % 32u));
    }
  }
  workgroupBarrier();
  if (lane == 0u && selecting) {
    var removed = 0u;
    for (var w = 0u; w < words && removed < GLOBAL; w++) {
      var bits = atomicLoad(&picked[w]);
      while (bits != 0u && removed < GLOBAL) {
        bits &= bits - 1u;
        removed++;
      }
      atomicStore(&picked[w], bits);
    }
    for (var g = 0u; g < GLOBAL; g++) {
      let j = (shape.first_token_row + g) % tokens;
      atomicOr(&picked[j / 32u], 1u << (j % 32u));
    }
  }
  workgroupBarrier();
  // Rows below the instruction see the selection (every allowed key when the block keeps all); the instruction
  // rows see every key (their causal mask is the attention kernel's).
  for (var n = lane; n < QUERY_BLOCK * words; n += 64u) {
    let i = first_row + n / words;
    let w = n % words;
    if (i < tokens) {
      var limit = tokens;
      if (i < selection_rows) {
        limit = allowed;
      }
      var bits = 0u;
      if (w * 32u + 32u <= limit) {
        bits = 0xffffffffu;
      } else if (w * 32u < limit) {
        bits = (1u << (limit - w * 32u)) - 1u;
      }
      if (i < selection_rows && selecting) {
        bits = atomicLoad(&picked[w]);
      }
      key_mask[i * words + w] = bits;
    }
  }
  // Lists: a tile whose rows all select keeps the planned tiles holding a picked key; any other keeps the plan.
  let tiles = (tokens + shape.block - 1u) / shape.block;
  for (var n = lane; n < 2u * shape.heads; n += 64u) {
    let tile = block * 2u + n % 2u;
    let head = n / 2u;
    if (tile < tiles) {
      let last_row = min(tile * shape.block + shape.block, tokens) - 1u;
      let sparse = selecting && last_row < selection_rows;
      let slot = list_slot(shape, head, tile);
      var count = 0u;
      for (var b = 0u; b < allowed_counts[slot]; b++) {
        let key_tile = allowed_indices[slot * shape.max_key_blocks + b];
        let start = key_tile * shape.block;
        var any = !sparse;
        for (var j = start; j < min(start + shape.block, tokens) && !any; j++) {
          any = ((atomicLoad(&picked[j / 32u]) >> (j % 32u)) & 1u) == 1u;
        }
        if (any) {
          indices[slot * shape.max_key_blocks + count] = key_tile;
          count++;
        }
      }
      counts[slot] = count;
    }
  }
}
