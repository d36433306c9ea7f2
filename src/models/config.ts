/** GPT-2 hyper-parameters, spelled as in Hugging Face's `config.json` so hub checkpoints load unchanged. */
export interface Gpt2Config {
  model_type: 'gpt2';
  n_layer: number;
  n_head: number;
  n_embd: number;
  n_positions: number;
  vocab_size: number;
  layer_norm_epsilon: number;
}

export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}

/** The `model_type` values the engine has a forward pass for; the message of an unsupported one lists them. */
export const SUPPORTED_MODEL_TYPES = ['gpt2'] as const;

export class UnsupportedArchitectureError extends ModelConfigError {
  override name = 'UnsupportedArchitectureError';

  constructor(readonly modelType: string) {
    const supported = SUPPORTED_MODEL_TYPES.map((type) => `"${type}"`).join(', ');
    super(`unsupported architecture "${modelType}": this engine runs model_type ${supported} (e.g. gpt2, distilgpt2)`);
  }
}

const positiveIntegerKeys = ['n_layer', 'n_head', 'n_embd', 'n_positions', 'vocab_size'] as const;

/** Validates a parsed `config.json`; every problem names the key and what was expected. */
export function parseGpt2Config(json: unknown): Gpt2Config {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ModelConfigError('config.json is not a JSON object');
  const raw = json as Record<string, unknown>;
  const modelType = raw['model_type'] ?? 'gpt2';
  if (modelType !== 'gpt2') throw new UnsupportedArchitectureError(String(modelType));
  for (const key of positiveIntegerKeys) {
    const value = raw[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new ModelConfigError(`config.json: "${key}" must be a positive integer, got ${JSON.stringify(value)}`);
    }
  }
  const epsilon = raw['layer_norm_epsilon'] ?? 1e-5;
  if (typeof epsilon !== 'number' || !(epsilon > 0)) {
    throw new ModelConfigError(`config.json: "layer_norm_epsilon" must be a positive number, got ${JSON.stringify(epsilon)}`);
  }
  const config: Gpt2Config = {
    model_type: 'gpt2',
    n_layer: raw['n_layer'] as number,
    n_head: raw['n_head'] as number,
    n_embd: raw['n_embd'] as number,
    n_positions: raw['n_positions'] as number,
    vocab_size: raw['vocab_size'] as number,
    layer_norm_epsilon: epsilon,
  };
  if (config.n_embd % config.n_head !== 0) {
    throw new ModelConfigError(`config.json: n_embd (${config.n_embd}) must be divisible by n_head (${config.n_head})`);
  }
  if (headDim(config) % 4 !== 0 || headDim(config) > 128) {
    throw new ModelConfigError(`head size ${headDim(config)} is not supported: it must be a multiple of 4 and at most 128`);
  }
  return config;
}

export function headDim(config: Gpt2Config): number {
  return config.n_embd / config.n_head;
}
