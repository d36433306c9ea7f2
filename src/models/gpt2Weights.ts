import type { Gpt2Config } from './config';
import type { SafetensorsFile } from './safetensors';

/**
 * One transformer block's parameters. Matrices keep Hugging Face's Conv1D layout, [in, out] row-major, so
 * `y = x · W + b` reads W row by row; LayerNorm vectors and biases are [n_embd] or [out].
 */
export interface Gpt2LayerWeights {
  ln1Weight: Float32Array;
  ln1Bias: Float32Array;
  /** [n_embd, 3·n_embd]: the output columns are q, then k, then v, each split into heads of headDim columns. */
  attnQkvWeight: Float32Array;
  attnQkvBias: Float32Array;
  attnProjWeight: Float32Array;
  attnProjBias: Float32Array;
  ln2Weight: Float32Array;
  ln2Bias: Float32Array;
  /** [n_embd, 4·n_embd] */
  mlpFcWeight: Float32Array;
  mlpFcBias: Float32Array;
  /** [4·n_embd, n_embd] */
  mlpProjWeight: Float32Array;
  mlpProjBias: Float32Array;
}

export interface Gpt2Weights {
  /** [vocab_size, n_embd]; also the LM head (logits = ln_f(x) · wteᵀ). */
  wte: Float32Array;
  /** [n_positions, n_embd] */
  wpe: Float32Array;
  layers: Gpt2LayerWeights[];
  lnFWeight: Float32Array;
  lnFBias: Float32Array;
}

export class ModelWeightsError extends Error {
  override name = 'ModelWeightsError';
}

export interface TensorShape {
  /** The hub name, without the `transformer.` prefix. */
  name: string;
  shape: number[];
}

/** Where each field of a layer comes from, relative to `h.N.`. */
function layerTensorShapes(d: number): Record<keyof Gpt2LayerWeights, TensorShape> {
  return {
    ln1Weight: { name: 'ln_1.weight', shape: [d] },
    ln1Bias: { name: 'ln_1.bias', shape: [d] },
    attnQkvWeight: { name: 'attn.c_attn.weight', shape: [d, 3 * d] },
    attnQkvBias: { name: 'attn.c_attn.bias', shape: [3 * d] },
    attnProjWeight: { name: 'attn.c_proj.weight', shape: [d, d] },
    attnProjBias: { name: 'attn.c_proj.bias', shape: [d] },
    ln2Weight: { name: 'ln_2.weight', shape: [d] },
    ln2Bias: { name: 'ln_2.bias', shape: [d] },
    mlpFcWeight: { name: 'mlp.c_fc.weight', shape: [d, 4 * d] },
    mlpFcBias: { name: 'mlp.c_fc.bias', shape: [4 * d] },
    mlpProjWeight: { name: 'mlp.c_proj.weight', shape: [4 * d, d] },
    mlpProjBias: { name: 'mlp.c_proj.bias', shape: [d] },
  };
}

function globalTensorShapes(config: Gpt2Config): Record<Exclude<keyof Gpt2Weights, 'layers'>, TensorShape> {
  const d = config.n_embd;
  return {
    wte: { name: 'wte.weight', shape: [config.vocab_size, d] },
    wpe: { name: 'wpe.weight', shape: [config.n_positions, d] },
    lnFWeight: { name: 'ln_f.weight', shape: [d] },
    lnFBias: { name: 'ln_f.bias', shape: [d] },
  };
}

/** Every tensor the engine uploads for this config, known before the weights are downloaded. */
export function gpt2TensorShapes(config: Gpt2Config): TensorShape[] {
  const perLayer = Object.values(layerTensorShapes(config.n_embd));
  return [
    ...Object.values(globalTensorShapes(config)),
    ...Array.from({ length: config.n_layer }, (_, i) => perLayer.map(({ name, shape }) => ({ name: `h.${i}.${name}`, shape }))).flat(),
  ];
}

/**
 * Picks GPT-2's tensors out of a safetensors file and checks each shape against the config. Accepts the hub
 * `gpt2` naming (`h.0.attn.c_attn.weight`) and the `transformer.`-prefixed naming that GPT2LMHeadModel's
 * `save_pretrained` writes. Tensors the engine does not use (`lm_head.weight`, `h.N.attn.bias` masks) are ignored.
 */
export function gpt2WeightsFromSafetensors(file: SafetensorsFile, config: Gpt2Config): Gpt2Weights {
  const prefix = file.tensors.has('transformer.wte.weight') ? 'transformer.' : '';

  const tensor = ({ name, shape: expectedShape }: TensorShape): Float32Array => {
    const fullName = prefix + name;
    const found = file.tensors.get(fullName);
    if (!found) {
      throw new ModelWeightsError(
        `${file.fileName}: tensor "${fullName}" is missing (expected shape ${formatShape(expectedShape)})`,
      );
    }
    if (!sameShape(found.shape, expectedShape)) {
      throw new ModelWeightsError(
        `${file.fileName}: tensor "${fullName}" has shape ${formatShape(found.shape)}, expected ` +
          `${formatShape(expectedShape)} for this config${transposeHint(found.shape, expectedShape)}`,
      );
    }
    return found.data;
  };
  const tensors = <Key extends string>(shapes: Record<Key, TensorShape>, namePrefix = '') =>
    Object.fromEntries(
      Object.entries<TensorShape>(shapes).map(([key, { name, shape }]) => [key, tensor({ name: namePrefix + name, shape })]),
    ) as Record<Key, Float32Array>;

  const layerShapes = layerTensorShapes(config.n_embd);
  const layers = Array.from({ length: config.n_layer }, (_, i): Gpt2LayerWeights => tensors(layerShapes, `h.${i}.`));
  return { ...tensors(globalTensorShapes(config)), layers };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, i) => size === b[i]);
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A transposed matrix usually means nn.Linear [out, in] weights were saved where Conv1D [in, out] belongs. */
function transposeHint(got: readonly number[], expected: readonly number[]): string {
  const [rows, columns] = expected;
  const isTransposed = expected.length === 2 && got.length === 2 && got[0] === columns && got[1] === rows;
  return isTransposed ? ' (transposed: GPT-2 stores Conv1D weights as [in, out], not nn.Linear [out, in])' : '';
}
