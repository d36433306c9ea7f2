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

/**
 * Picks GPT-2's tensors out of a safetensors file and checks each shape against the config. Accepts the hub
 * `gpt2` naming (`h.0.attn.c_attn.weight`) and the `transformer.`-prefixed naming that GPT2LMHeadModel's
 * `save_pretrained` writes. Tensors the engine does not use (`lm_head.weight`, `h.N.attn.bias` masks) are ignored.
 */
export function gpt2WeightsFromSafetensors(file: SafetensorsFile, config: Gpt2Config): Gpt2Weights {
  const prefix = file.tensors.has('transformer.wte.weight') ? 'transformer.' : '';
  const d = config.n_embd;

  const tensor = (name: string, expectedShape: number[]): Float32Array => {
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

  const layers = Array.from({ length: config.n_layer }, (_, i): Gpt2LayerWeights => {
    const p = `h.${i}.`;
    return {
      ln1Weight: tensor(`${p}ln_1.weight`, [d]),
      ln1Bias: tensor(`${p}ln_1.bias`, [d]),
      attnQkvWeight: tensor(`${p}attn.c_attn.weight`, [d, 3 * d]),
      attnQkvBias: tensor(`${p}attn.c_attn.bias`, [3 * d]),
      attnProjWeight: tensor(`${p}attn.c_proj.weight`, [d, d]),
      attnProjBias: tensor(`${p}attn.c_proj.bias`, [d]),
      ln2Weight: tensor(`${p}ln_2.weight`, [d]),
      ln2Bias: tensor(`${p}ln_2.bias`, [d]),
      mlpFcWeight: tensor(`${p}mlp.c_fc.weight`, [d, 4 * d]),
      mlpFcBias: tensor(`${p}mlp.c_fc.bias`, [4 * d]),
      mlpProjWeight: tensor(`${p}mlp.c_proj.weight`, [4 * d, d]),
      mlpProjBias: tensor(`${p}mlp.c_proj.bias`, [d]),
    };
  });

  return {
    wte: tensor('wte.weight', [config.vocab_size, d]),
    wpe: tensor('wpe.weight', [config.n_positions, d]),
    layers,
    lnFWeight: tensor('ln_f.weight', [d]),
    lnFBias: tensor('ln_f.bias', [d]),
  };
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
