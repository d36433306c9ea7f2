/**
 * Model configurations. `config.json` is parsed per architecture, with Hugging Face's key names so hub checkpoints
 * load unchanged, into one `TransformerConfig`: the shape of pre-LayerNorm transformer the engine, the planner and
 * the FLOP counter all work on, whatever its input front (token or patch embedding) and output head.
 */

/** GELU as GPT-2 writes it (`gelu_new`, tanh approximation) or as BERT/ViT do (`gelu`, exact erf). */
export type Activation = 'gelu-tanh' | 'gelu-erf';

/**
 * Which keys query i may attend: `causal` j ≤ i (GPT-2); `bidirectional` every j (ViT); `prefix-lm` j ≤ i or j in the
 * image prefix (image tokens see each other, text stays causal and sees every image token: a LLaVA-style VLM).
 */
export type AttentionMask = 'causal' | 'bidirectional' | 'prefix-lm';

/** How an image becomes tokens: a square image cut into grid × grid patches, each embedded by one matmul. */
export interface ImageInput {
  /** Pixels per side. */
  size: number;
  patch: number;
  /** Patches per side (size / patch). */
  grid: number;
  channels: number;
  /** pixel_values = (rgb · rescale − mean) / std, per channel, as Hugging Face image processors do. */
  rescale: number;
  mean: readonly number[];
  std: readonly number[];
  /** Whether a CLS token joins the patches (ViT). The engine keeps it as the last row, so the output row is last. */
  cls: boolean;
}

export interface TransformerConfig {
  model_type: string;
  n_layer: number;
  n_head: number;
  n_embd: number;
  /** Width of the MLP's hidden layer. */
  n_inner: number;
  /** Most tokens one input may have: positions for text models, patches (+ CLS) (+ text) for image models. */
  n_positions: number;
  /** Rows of the output head: the vocabulary, or a classifier's labels. */
  vocab_size: number;
  layer_norm_epsilon: number;
  activation: Activation;
  attention: AttentionMask;
  /** null for text-only models. */
  image: ImageInput | null;
  /** Tokens the image contributes at the start of the input (patches, plus CLS for a ViT); 0 without an image. */
  imageTokens: number;
  /** Text tokens one input may have (0 for an image classifier). */
  maxTextTokens: number;
  /** A classifier's label names (index = output row); null when the outputs are the tokenizer's vocabulary. */
  labels: readonly string[] | null;
}

export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}

/** The `model_type` values the engine has a forward pass for; the message of an unsupported one lists them. */
export const SUPPORTED_MODEL_TYPES = ['gpt2', 'vit', 'shapes-vqa'] as const;

export class UnsupportedArchitectureError extends ModelConfigError {
  override name = 'UnsupportedArchitectureError';

  constructor(readonly modelType: string) {
    const supported = SUPPORTED_MODEL_TYPES.map((type) => `"${type}"`).join(', ');
    super(`unsupported architecture "${modelType}": this engine runs model_type ${supported} (e.g. gpt2, distilgpt2, google/vit-base-patch16-224)`);
  }
}

/**
 * Validates a parsed `config.json` (and, for image models, `preprocessor_config.json`, whose normalisation wins
 * over the config's); every problem names the key and what was expected.
 */
export function parseModelConfig(json: unknown, preprocessor?: unknown): TransformerConfig {
  const raw = jsonObject(json, 'config.json');
  const modelType = raw['model_type'] ?? 'gpt2';
  const config = (() => {
    switch (modelType) {
      case 'gpt2':
        return gpt2Config(new ConfigReader(raw));
      case 'vit':
        return vitConfig(new ConfigReader(raw), preprocessor === undefined ? {} : jsonObject(preprocessor, 'preprocessor_config.json'));
      case 'shapes-vqa':
        return shapesVqaConfig(new ConfigReader(raw));
      default:
        throw new UnsupportedArchitectureError(String(modelType));
    }
  })();
  if (config.n_embd % config.n_head !== 0) {
    throw new ModelConfigError(`config.json: the width (${config.n_embd}) must be divisible by the number of heads (${config.n_head})`);
  }
  if (headDim(config) % 4 !== 0 || headDim(config) > 128) {
    throw new ModelConfigError(`head size ${headDim(config)} is not supported: it must be a multiple of 4 and at most 128`);
  }
  if (config.n_inner % 4 !== 0) throw new ModelConfigError(`config.json: the MLP width (${config.n_inner}) must be a multiple of 4`);
  return config;
}

/** Whether this `config.json` takes its image normalisation from a `preprocessor_config.json` (Hugging Face ViTs do). */
export function readsPreprocessorConfig(json: unknown): boolean {
  return typeof json === 'object' && json !== null && (json as Record<string, unknown>)['model_type'] === 'vit';
}

export function headDim(config: TransformerConfig): number {
  return config.n_embd / config.n_head;
}

function jsonObject(json: unknown, file: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ModelConfigError(`${file} is not a JSON object`);
  return json as Record<string, unknown>;
}

class ConfigReader {
  constructor(readonly raw: Record<string, unknown>, readonly file = 'config.json') {}

  positiveInteger(key: string, fallback?: number): number {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new ModelConfigError(`${this.file}: "${key}" must be a positive integer, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  positiveNumber(key: string, fallback: number): number {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'number' || !(value > 0)) throw new ModelConfigError(`${this.file}: "${key}" must be a positive number, got ${JSON.stringify(value)}`);
    return value;
  }

  channelTriple(key: string, fallback: readonly number[]): readonly number[] {
    const value = this.raw[key] ?? fallback;
    if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new ModelConfigError(`${this.file}: "${key}" must be three numbers (one per RGB channel), got ${JSON.stringify(value)}`);
    }
    return value as number[];
  }

  activation(key: string, fallback: string): Activation {
    const value = this.raw[key] ?? fallback;
    if (value === 'gelu_new' || value === 'gelu_pytorch_tanh') return 'gelu-tanh';
    if (value === 'gelu') return 'gelu-erf';
    throw new ModelConfigError(`${this.file}: "${key}" is ${JSON.stringify(value)}; the engine runs "gelu_new", "gelu_pytorch_tanh" and "gelu"`);
  }
}

function gpt2Config(read: ConfigReader): TransformerConfig {
  const n_embd = read.positiveInteger('n_embd');
  const n_positions = read.positiveInteger('n_positions');
  return {
    model_type: 'gpt2',
    n_layer: read.positiveInteger('n_layer'),
    n_head: read.positiveInteger('n_head'),
    n_embd,
    // GPT-2 writes `"n_inner": null` for the default 4·n_embd.
    n_inner: read.raw['n_inner'] === null ? 4 * n_embd : read.positiveInteger('n_inner', 4 * n_embd),
    n_positions,
    vocab_size: read.positiveInteger('vocab_size'),
    layer_norm_epsilon: read.positiveNumber('layer_norm_epsilon', 1e-5),
    activation: read.activation('activation_function', 'gelu_new'),
    attention: 'causal',
    image: null,
    imageTokens: 0,
    maxTextTokens: n_positions,
    labels: null,
  };
}

function imageInput(read: ConfigReader, normalisation: ConfigReader, cls: boolean): ImageInput {
  const size = read.positiveInteger('image_size');
  const patch = read.positiveInteger('patch_size');
  if (size % patch !== 0) throw new ModelConfigError(`${read.file}: image_size (${size}) must be a multiple of patch_size (${patch})`);
  return {
    size,
    patch,
    grid: size / patch,
    channels: read.positiveInteger('num_channels', 3),
    // Hugging Face's ViTImageProcessor defaults: rescale to [0, 1], then mean = std = 0.5 per channel.
    rescale: normalisation.raw['do_rescale'] === false ? 1 : normalisation.positiveNumber('rescale_factor', 1 / 255),
    mean: normalisation.raw['do_normalize'] === false ? [0, 0, 0] : normalisation.channelTriple('image_mean', [0.5, 0.5, 0.5]),
    std: normalisation.raw['do_normalize'] === false ? [1, 1, 1] : normalisation.channelTriple('image_std', [0.5, 0.5, 0.5]),
    cls,
  };
}

function vitConfig(read: ConfigReader, preprocessor: Record<string, unknown>): TransformerConfig {
  if (read.raw['qkv_bias'] === false) throw new ModelConfigError('config.json: "qkv_bias": false is not supported (the engine adds a q/k/v bias)');
  const image = imageInput(read, new ConfigReader(preprocessor, 'preprocessor_config.json'), true);
  const labels = classLabels(read.raw['id2label']);
  const tokens = image.grid * image.grid + 1;
  return {
    model_type: 'vit',
    n_layer: read.positiveInteger('num_hidden_layers'),
    n_head: read.positiveInteger('num_attention_heads'),
    n_embd: read.positiveInteger('hidden_size'),
    n_inner: read.positiveInteger('intermediate_size'),
    n_positions: tokens,
    vocab_size: labels.length,
    layer_norm_epsilon: read.positiveNumber('layer_norm_eps', 1e-12),
    activation: read.activation('hidden_act', 'gelu'),
    attention: 'bidirectional',
    image,
    imageTokens: tokens,
    maxTextTokens: 0,
    labels,
  };
}

function classLabels(id2label: unknown): string[] {
  if (typeof id2label !== 'object' || id2label === null || Object.keys(id2label).length === 0) {
    throw new ModelConfigError('config.json: "id2label" must name the classifier\'s labels ({"0": "cat", ...})');
  }
  const entries = Object.entries(id2label as Record<string, unknown>);
  const labels = new Array<string>(entries.length);
  for (const [index, label] of entries) {
    const i = Number(index);
    if (!Number.isInteger(i) || i < 0 || i >= entries.length || typeof label !== 'string') {
      throw new ModelConfigError(`config.json: "id2label" must map 0…${entries.length - 1} to names, got ${JSON.stringify(index)}: ${JSON.stringify(label)}`);
    }
    labels[i] = label;
  }
  return labels;
}

function shapesVqaConfig(read: ConfigReader): TransformerConfig {
  const image = imageInput(read, read, false);
  const imageTokens = read.positiveInteger('num_image_tokens');
  if (imageTokens !== image.grid * image.grid) {
    throw new ModelConfigError(`config.json: num_image_tokens (${imageTokens}) must be the patch count (${image.grid}×${image.grid})`);
  }
  if (read.raw['attention'] !== 'prefix-lm') throw new ModelConfigError(`config.json: "attention" is ${JSON.stringify(read.raw['attention'])}; shapes-vqa uses "prefix-lm"`);
  const maxTextTokens = read.positiveInteger('max_text_tokens');
  return {
    model_type: 'shapes-vqa',
    n_layer: read.positiveInteger('n_layer'),
    n_head: read.positiveInteger('n_head'),
    n_embd: read.positiveInteger('n_embd'),
    n_inner: read.positiveInteger('n_inner'),
    n_positions: imageTokens + maxTextTokens,
    vocab_size: read.positiveInteger('vocab_size'),
    layer_norm_epsilon: read.positiveNumber('layer_norm_epsilon', 1e-5),
    activation: read.activation('activation_function', 'gelu_new'),
    attention: 'prefix-lm',
    image,
    imageTokens,
    maxTextTokens,
    labels: null,
  };
}

/**
 * Keys query rows may see across the whole row (the bidirectional prefix of the attention kernel) for a layer
 * computing `tokens` tokens of which the last `textTokens` are text.
 */
export function bidirectionalPrefix(config: TransformerConfig, tokens: number, textTokens: number): number {
  switch (config.attention) {
    case 'causal':
      return 0;
    case 'bidirectional':
      return tokens;
    case 'prefix-lm':
      return tokens - textTokens;
  }
}
