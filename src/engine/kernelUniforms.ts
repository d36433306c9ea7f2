import { uniformLayout } from './uniforms';

/*
 * The uniform struct of every kernel KernelRecorder dispatches, member for member as its WGSL declares it (padding
 * members aside). kernelUniforms.test.ts parses each shader and fails when a struct and its layout disagree, so a
 * new member is one line in the WGSL struct and one line here.
 */

/** shaders/random.wgsl */
export const dropoutStream = uniformLayout('DropoutStream', {
  seed: 'u32',
  sample: 'u32',
  site: 'u32',
  layer: 'u32',
});

/** shaders/embed.wgsl */
export const embedParams = uniformLayout('EmbedParams', {
  tokens: 'u32',
  channels: 'u32',
  dropout_rate: 'f32',
  row_offset: 'u32',
  stream: dropoutStream,
});

/** shaders/layernorm.wgsl */
export const layerNormParams = uniformLayout('LayerNormParams', {
  rows: 'u32',
  channels: 'u32',
  row_offset: 'u32',
  epsilon: 'f32',
});

/** shaders/matmul.wgsl */
export const matmulParams = uniformLayout('MatmulParams', {
  m: 'u32',
  n: 'u32',
  k: 'u32',
  dropout_rate: 'f32',
  stream: dropoutStream,
});

/** shaders/lm_head.wgsl */
export const lmHeadParams = uniformLayout('LmHeadParams', {
  m: 'u32',
  vocab: 'u32',
  channels: 'u32',
});

/** shaders/patch_embed.wgsl */
export const patchEmbedParams = uniformLayout('PatchEmbedParams', {
  channels: 'u32',
  patch_size: 'u32',
  grid: 'u32',
  image_channels: 'u32',
  dropout_rate: 'f32',
  stream: dropoutStream,
});

/** shaders/attention.wgsl */
export const attentionParams = uniformLayout('AttentionParams', {
  tokens: 'u32',
  heads: 'u32',
  head_dim: 'u32',
  max_key_blocks: 'u32',
  scale: 'f32',
  dropout_rate: 'f32',
  bidirectional_prefix: 'u32',
  window_sinks: 'u32',
  window_size: 'u32',
  window_origin: 'u32',
  key_mask_words: 'u32',
  stream: dropoutStream,
});

/** shaders/select_keep.wgsl */
export const selectParams = uniformLayout('SelectParams', {
  tokens: 'u32',
  keep: 'u32',
});

/** shaders/compact.wgsl (the prefix sum) */
export const scanParams = uniformLayout('ScanParams', {
  tokens: 'u32',
});

/** shaders/gather_rows.wgsl */
export const gatherParams = uniformLayout('GatherParams', {
  tokens: 'u32',
  channels: 'u32',
});

/** Every technique scorer's uniform (src/techniques/README.md, "Token pruning"), e.g. fastv/fastvScore.wgsl. */
export const scoreShape = uniformLayout('ScoreShape', {
  heads: 'u32',
  tokens: 'u32',
  protected_tail: 'u32',
  bidirectional_prefix: 'u32',
});

/** shaders/estimate.wgsl: every technique estimator's shape (src/techniques/README.md, "GPU-decided sparsity"). */
export const estimateShape = uniformLayout('EstimateShape', {
  tokens: 'u32',
  heads: 'u32',
  head_dim: 'u32',
  max_key_blocks: 'u32',
  bidirectional_prefix: 'u32',
  first_token_row: 'u32',
  layer: 'u32',
  block: 'u32',
});
