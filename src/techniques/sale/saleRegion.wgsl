#include "estimate.wgsl"
// SALE's regions of one 32-row query block (ALGORITHM.md step 4 and "Bidirectional rows"), shared by the passes.
// 0: no row of the block sees key block k; 1: reference region (computed whatever the estimate says); 2: middle.
fn sale_region(shape: EstimateShape, query_block: u32, k: u32) -> u32 {
  let key_blocks = shape.max_key_blocks;
  let row_start = query_block * 32u;
  let row_end = min(row_start + 32u, shape.tokens);
  let prefix = shape.bidirectional_prefix;
  if (k * shape.block >= max(row_end, prefix)) {
    return 0u;
  }
  if (k == shape.first_token_row / shape.block) {
    return 1u;
  }
  if (prefix > 0u && prefix < shape.tokens && k * shape.block < prefix) {
    return 1u;
  }
  let first_diag = 2u * query_block;
  let last_diag = min(first_diag + 1u, key_blocks - 1u);
  if (k >= first_diag && k <= last_diag) {
    return 1u;
  }
  // The band counts back from last_diag: the middle [1, m) is whole segments, at least 4 blocks left for the band.
  var middle_end = 1u;
  if (last_diag >= 4u) {
    middle_end = 1u + 4u * ((last_diag - 4u) / 4u);
  }
  if (k >= max(1u, middle_end) && k < first_diag) {
    return 1u;
  }
  if (row_start < prefix && k > last_diag && k <= last_diag + 4u) {
    return 1u;
  }
  return 2u;
}
