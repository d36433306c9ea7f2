import type { TransformerConfig } from './config';
import type { SafetensorsFile } from './safetensors';

/**
 * One transformer block's parameters. Matrices are in Conv1D layout, [in, out] row-major, so `y = x · W + b` reads
 * W row by row: GPT-2 checkpoints already are; nn.Linear checkpoints (ViT) are transposed on load.
 */
export interface LayerWeights {
  ln1Weight: Float32Array;
  ln1Bias: Float32Array;
  /** [n_embd, 3·n_embd]: the output columns are q, then k, then v, each split into heads of headDim columns. */
  attnQkvWeight: Float32Array;
  attnQkvBias: Float32Array;
  attnProjWeight: Float32Array;
  attnProjBias: Float32Array;
  ln2Weight: Float32Array;
  ln2Bias: Float32Array;
  /** [n_embd, n_inner] */
  mlpFcWeight: Float32Array;
  mlpFcBias: Float32Array;
  /** [n_inner, n_embd] */
  mlpProjWeight: Float32Array;
  mlpProjBias: Float32Array;
}

export interface TokenEmbedding {
  /** [vocab_size, n_embd] */
  wte: Float32Array;
  /** [text positions, n_embd]: text token t adds row t, counted from the first text token. */
  wpe: Float32Array;
}

export interface PatchEmbedding {
  /** [channels·patch·patch, n_embd]: the patch convolution's kernel with its input flattened (channel, row, column). */
  weight: Float32Array;
  bias: Float32Array;
  /** [imageTokens, n_embd] in the engine's row order: patches row-major, then the CLS token if there is one. */
  positions: Float32Array;
  /** [n_embd] for a ViT, null for a VLM's image prefix. */
  cls: Float32Array | null;
}

export interface TransformerWeights {
  tokens: TokenEmbedding | null;
  patches: PatchEmbedding | null;
  layers: LayerWeights[];
  lnFWeight: Float32Array;
  lnFBias: Float32Array;
  /** [vocab_size, n_embd]: logits = ln_f(x) · headWeightᵀ (+ headBias). GPT-2 ties it to `tokens.wte`. */
  headWeight: Float32Array;
  headBias: Float32Array | null;
}

export class ModelWeightsError extends Error {
  override name = 'ModelWeightsError';
}

/** A tensor as the engine uploads it: its largest one must fit the device's buffer limits. */
export interface UploadedTensor {
  name: string;
  elements: number;
}

export function uploadedTensors(config: TransformerConfig): UploadedTensor[] {
  const { n_embd: d, n_inner: inner, vocab_size: vocab } = config;
  const tensors: UploadedTensor[] = [
    { name: 'attention q/k/v', elements: d * 3 * d },
    { name: 'MLP up-projection', elements: d * inner },
    { name: 'output head', elements: vocab * d },
  ];
  if (config.image) {
    const { channels, patch } = config.image;
    tensors.push({ name: 'patch embedding', elements: channels * patch * patch * d }, { name: 'image positions', elements: config.imageTokens * d });
  }
  if (config.maxTextTokens > 0) tensors.push({ name: 'position embedding', elements: config.maxTextTokens * d });
  return tensors;
}

/** Picks a model's tensors out of its safetensors file, checks each shape against the config and lays it out for the engine. */
export function weightsFromSafetensors(file: SafetensorsFile, config: TransformerConfig): TransformerWeights {
  const reader = new TensorReader(file);
  switch (config.model_type) {
    case 'vit':
      return vitWeights(reader, config);
    case 'shapes-vqa':
      return shapesVqaWeights(reader, config);
    default:
      return gpt2Weights(reader, config);
  }
}

class TensorReader {
  prefix = '';

  constructor(readonly file: SafetensorsFile) {}

  has(name: string): boolean {
    return this.file.tensors.has(name);
  }

  /** The tensor `name` (after the prefix), which must have exactly `shape`. */
  get(name: string, shape: readonly number[], layout: 'conv1d' | 'linear' = 'conv1d'): Float32Array {
    const fullName = this.prefix + name;
    const found = this.file.tensors.get(fullName);
    if (!found) throw new ModelWeightsError(`${this.file.fileName}: tensor "${fullName}" is missing (expected shape ${formatShape(shape)})`);
    if (!sameShape(found.shape, shape)) {
      throw new ModelWeightsError(
        `${this.file.fileName}: tensor "${fullName}" has shape ${formatShape(found.shape)}, expected ${formatShape(shape)} for this config` +
          transposeHint(found.shape, shape, layout),
      );
    }
    return found.data;
  }

  /** An nn.Linear weight, stored [out, in], returned transposed to the engine's [in, out]. */
  linear(name: string, inputs: number, outputs: number): Float32Array {
    return transpose(this.get(name, [outputs, inputs], 'linear'), outputs, inputs);
  }
}

/** GPT-2 blocks (`h.N.`), with the hub's names and Conv1D layout. */
function gpt2Layers(read: TensorReader, config: TransformerConfig): LayerWeights[] {
  const { n_embd: d, n_inner: inner } = config;
  return Array.from({ length: config.n_layer }, (_, i) => {
    const at = (name: string, shape: number[]) => read.get(`h.${i}.${name}`, shape);
    return {
      ln1Weight: at('ln_1.weight', [d]),
      ln1Bias: at('ln_1.bias', [d]),
      attnQkvWeight: at('attn.c_attn.weight', [d, 3 * d]),
      attnQkvBias: at('attn.c_attn.bias', [3 * d]),
      attnProjWeight: at('attn.c_proj.weight', [d, d]),
      attnProjBias: at('attn.c_proj.bias', [d]),
      ln2Weight: at('ln_2.weight', [d]),
      ln2Bias: at('ln_2.bias', [d]),
      mlpFcWeight: at('mlp.c_fc.weight', [d, inner]),
      mlpFcBias: at('mlp.c_fc.bias', [inner]),
      mlpProjWeight: at('mlp.c_proj.weight', [inner, d]),
      mlpProjBias: at('mlp.c_proj.bias', [d]),
    };
  });
}

/**
 * GPT-2 in the hub `gpt2` naming (`h.0.attn.c_attn.weight`) or the `transformer.`-prefixed naming that
 * GPT2LMHeadModel's `save_pretrained` writes. Unused tensors (`lm_head.weight`, `h.N.attn.bias` masks) are ignored.
 */
function gpt2Weights(read: TensorReader, config: TransformerConfig): TransformerWeights {
  read.prefix = read.has('transformer.wte.weight') ? 'transformer.' : '';
  return decoderWeights(read, config, null);
}

/** shapes-vqa: GPT-2 blocks and tied head, plus `image_proj` (Conv1D layout) and `image_pos` for the image prefix. */
function shapesVqaWeights(read: TensorReader, config: TransformerConfig): TransformerWeights {
  const d = config.n_embd;
  const { channels, patch } = config.image!;
  const patches: PatchEmbedding = {
    weight: read.get('image_proj.weight', [channels * patch * patch, d]),
    bias: read.get('image_proj.bias', [d]),
    positions: read.get('image_pos', [config.imageTokens, d]),
    cls: null,
  };
  return decoderWeights(read, config, patches);
}

/** A GPT-2-style decoder: wte/wpe for the text (wpe rows = text positions), `h.N.` blocks, ln_f, head tied to wte. */
function decoderWeights(read: TensorReader, config: TransformerConfig, patches: PatchEmbedding | null): TransformerWeights {
  const d = config.n_embd;
  const wte = read.get('wte.weight', [config.vocab_size, d]);
  return {
    tokens: { wte, wpe: read.get('wpe.weight', [config.maxTextTokens, d]) },
    patches,
    layers: gpt2Layers(read, config),
    lnFWeight: read.get('ln_f.weight', [d]),
    lnFBias: read.get('ln_f.bias', [d]),
    headWeight: wte,
    headBias: null,
  };
}

/**
 * Hugging Face ViTForImageClassification (`vit.` + `classifier.`). q, k and v are fused into one Conv1D matrix;
 * the CLS token's position embedding (row 0 in the checkpoint) moves to the last row, where the engine keeps CLS.
 */
function vitWeights(read: TensorReader, config: TransformerConfig): TransformerWeights {
  const { n_embd: d, n_inner: inner } = config;
  const { channels, patch } = config.image!;
  read.prefix = 'vit.';
  const layers = Array.from({ length: config.n_layer }, (_, i): LayerWeights => {
    const at = `encoder.layer.${i}.`;
    const qkv = ['query', 'key', 'value'].map((part) => read.linear(`${at}attention.attention.${part}.weight`, d, d));
    return {
      ln1Weight: read.get(`${at}layernorm_before.weight`, [d]),
      ln1Bias: read.get(`${at}layernorm_before.bias`, [d]),
      attnQkvWeight: concatColumns(qkv, d, d),
      attnQkvBias: concat(['query', 'key', 'value'].map((part) => read.get(`${at}attention.attention.${part}.bias`, [d]))),
      attnProjWeight: read.linear(`${at}attention.output.dense.weight`, d, d),
      attnProjBias: read.get(`${at}attention.output.dense.bias`, [d]),
      ln2Weight: read.get(`${at}layernorm_after.weight`, [d]),
      ln2Bias: read.get(`${at}layernorm_after.bias`, [d]),
      mlpFcWeight: read.linear(`${at}intermediate.dense.weight`, d, inner),
      mlpFcBias: read.get(`${at}intermediate.dense.bias`, [inner]),
      mlpProjWeight: read.linear(`${at}output.dense.weight`, inner, d),
      mlpProjBias: read.get(`${at}output.dense.bias`, [d]),
    };
  });
  const kernel = read.get('embeddings.patch_embeddings.projection.weight', [d, channels, patch, patch], 'linear');
  const positions = read.get('embeddings.position_embeddings', [1, config.imageTokens, d]);
  const patches: PatchEmbedding = {
    weight: transpose(kernel, d, channels * patch * patch),
    bias: read.get('embeddings.patch_embeddings.projection.bias', [d]),
    positions: concat([positions.subarray(d), positions.subarray(0, d)]),
    cls: read.get('embeddings.cls_token', [1, 1, d]),
  };
  const lnFWeight = read.get('layernorm.weight', [d]);
  const lnFBias = read.get('layernorm.bias', [d]);
  read.prefix = '';
  return {
    tokens: null,
    patches,
    layers,
    lnFWeight,
    lnFBias,
    headWeight: read.get('classifier.weight', [config.vocab_size, d], 'linear'),
    headBias: read.get('classifier.bias', [config.vocab_size]),
  };
}

/** [rows, columns] row-major → [columns, rows]. */
export function transpose(matrix: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = matrix[r * columns + c]!;
  return out;
}

/** Side by side: each part is [rows, columns]; the result is [rows, parts·columns]. */
function concatColumns(parts: Float32Array[], rows: number, columns: number): Float32Array {
  const out = new Float32Array(rows * columns * parts.length);
  parts.forEach((part, p) => {
    for (let r = 0; r < rows; r++) out.set(part.subarray(r * columns, (r + 1) * columns), (r * parts.length + p) * columns);
  });
  return out;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, i) => size === b[i]);
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A transposed matrix usually means nn.Linear [out, in] and Conv1D [in, out] were mixed up. */
function transposeHint(got: readonly number[], expected: readonly number[], layout: 'conv1d' | 'linear'): string {
  const [rows, columns] = expected;
  if (expected.length !== 2 || got.length !== 2 || got[0] !== columns || got[1] !== rows) return '';
  return layout === 'conv1d'
    ? ' (transposed: GPT-2 stores Conv1D weights as [in, out], not nn.Linear [out, in])'
    : ' (transposed: this architecture stores nn.Linear weights as [out, in], not Conv1D [in, out])';
}
