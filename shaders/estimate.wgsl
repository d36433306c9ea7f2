// Shared by every technique's key-block estimator (BlockEstimator in src/engine/plan.ts; src/techniques/README.md,
// "GPU-decided sparsity"): the shape uniform, and the layout of the lists and key mask an estimator writes.

struct EstimateShape {
  tokens: u32,
  heads: u32,
  head_dim: u32,
  // Capacity of each (head, query block) list: ⌈tokens / BLOCK⌉.
  max_key_blocks: u32,
  // Query i sees key j when j ≤ i or j < bidirectional_prefix (LayerPlan's base mask).
  bidirectional_prefix: u32,
  // Row of the model's token 0 (a ViT's CLS, which the engine keeps last; TokenMask.firstTokenRow).
  first_token_row: u32,
  layer: u32,
  // Tile edge in tokens (ATTENTION_BLOCK).
  block: u32,
}

// Slot of the list of (head, query block): counts[slot], indices[slot · max_key_blocks + b].
fn list_slot(shape: EstimateShape, head: u32, query_block: u32) -> u32 {
  return head * shape.max_key_blocks + query_block;
}

// Words of one query row of a key mask: bit j % 32 of word ⌊j / 32⌋ is key j.
fn key_mask_words(shape: EstimateShape) -> u32 {
  return (shape.tokens + 31u) / 32u;
}
