import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelConfig, type TransformerConfig } from './config';
import { weightsFromSafetensors, ModelWeightsError } from './modelWeights';
import { parseSafetensors, SafetensorsError, type SafetensorsFile, type SafetensorsTensor } from './safetensors';

const modelDir = new URL('../../public/models/tiny-random-gpt2/', import.meta.url);
const config = parseModelConfig(JSON.parse(readFileSync(new URL('config.json', modelDir), 'utf8')));
const safetensorsBytes = () => {
  const bytes = readFileSync(new URL('model.safetensors', modelDir));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
};
const tinyModel = () => parseSafetensors(safetensorsBytes());

function withTensors(file: SafetensorsFile, edit: (tensors: Map<string, SafetensorsTensor>) => void): SafetensorsFile {
  const tensors = new Map(file.tensors);
  edit(tensors);
  return { ...file, tensors };
}

function expectWeightsError(file: SafetensorsFile, modelConfig: TransformerConfig, message: string | RegExp) {
  const map = () => weightsFromSafetensors(file, modelConfig);
  expect(map).toThrow(ModelWeightsError);
  expect(map).toThrow(message);
}

describe('weightsFromSafetensors', () => {
  it('maps every tensor of the tiny model with the config shapes', () => {
    const file = tinyModel();
    const weights = weightsFromSafetensors(file, config);
    const d = config.n_embd;
    expect(weights.layers).toHaveLength(config.n_layer);
    expect(weights.tokens!.wte.length).toBe(config.vocab_size * d);
    expect(weights.tokens!.wpe.length).toBe(config.n_positions * d);
    expect(weights.layers[2]!.attnQkvWeight.length).toBe(d * 3 * d);
    expect(weights.layers[2]!.mlpProjWeight.length).toBe(4 * d * d);
    // Same data, not a neighbouring tensor of the same size.
    expect(weights.layers[3]!.ln2Bias).toBe(file.tensors.get('h.3.ln_2.bias')!.data);
    expect(weights.layers[1]!.attnProjWeight).toBe(file.tensors.get('h.1.attn.c_proj.weight')!.data);
    expect(weights.lnFWeight).toBe(file.tensors.get('ln_f.weight')!.data);
  });

  it('accepts the transformer.-prefixed names that GPT2LMHeadModel.save_pretrained writes', () => {
    const bare = tinyModel();
    const prefixed: SafetensorsFile = {
      ...bare,
      tensors: new Map([...bare.tensors].map(([name, tensor]) => [`transformer.${name}`, tensor])),
    };
    prefixed.tensors.set('lm_head.weight', bare.tensors.get('wte.weight')!);
    const weights = weightsFromSafetensors(prefixed, config);
    expect(weights.layers[0]!.mlpFcBias).toBe(bare.tensors.get('h.0.mlp.c_fc.bias')!.data);
  });

  it('names a missing tensor and its expected shape', () => {
    const file = withTensors(tinyModel(), (tensors) => tensors.delete('h.3.mlp.c_fc.weight'));
    expectWeightsError(file, config, 'model.safetensors: tensor "h.3.mlp.c_fc.weight" is missing (expected shape [64, 256])');
  });

  it('names a tensor with the wrong shape, expected against got', () => {
    const file = withTensors(tinyModel(), (tensors) => {
      tensors.set('ln_f.bias', { dtype: 'F32', shape: [32], data: new Float32Array(32) });
    });
    expectWeightsError(file, config, 'tensor "ln_f.bias" has shape [32], expected [64] for this config');
  });

  it('points out nn.Linear-layout (transposed) matrices', () => {
    const file = withTensors(tinyModel(), (tensors) => {
      tensors.set('h.0.attn.c_attn.weight', { dtype: 'F32', shape: [192, 64], data: new Float32Array(192 * 64) });
    });
    expectWeightsError(
      file,
      config,
      /"h\.0\.attn\.c_attn\.weight" has shape \[192, 64\], expected \[64, 192\].*transposed: GPT-2 stores Conv1D/,
    );
  });

  it('rejects a file whose shapes belong to a different config', () => {
    const bigger: TransformerConfig = { ...config, n_positions: 2048, maxTextTokens: 2048 };
    expectWeightsError(tinyModel(), bigger, 'tensor "wpe.weight" has shape [1024, 64], expected [2048, 64]');
    expectWeightsError(tinyModel(), { ...config, n_layer: 5 }, 'tensor "h.4.ln_1.weight" is missing');
  });

  it('rejects a non-float dtype, naming the tensor', () => {
    // "F32" → "I32" keeps the header length, so only the dtype is wrong.
    const bytes = new Uint8Array(safetensorsBytes());
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))));
    const at = 8 + header.indexOf('"dtype":"F32"', header.indexOf('"h.2.mlp.c_proj.bias"')) + '"dtype":"'.length;
    bytes[at] = 'I'.charCodeAt(0);
    const parse = () => parseSafetensors(bytes.buffer);
    expect(parse).toThrow(SafetensorsError);
    expect(parse).toThrow('model.safetensors: tensor "h.2.mlp.c_proj.bias": dtype I32 is not supported (F32, F16 and BF16 are)');
  });
});

describe('weightsFromSafetensors on a Hugging Face ViT', () => {
  const vitDir = new URL('../../public/models/shapes-vit/', import.meta.url);
  const vitConfig = parseModelConfig(JSON.parse(readFileSync(new URL('config.json', vitDir), 'utf8')));
  const vitFile = () => {
    const bytes = readFileSync(new URL('model.safetensors', vitDir));
    return parseSafetensors(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  };

  it('fuses q, k and v into one [in, 3·out] matrix and moves CLS\'s position row last', () => {
    const file = vitFile();
    const weights = weightsFromSafetensors(file, vitConfig);
    const d = vitConfig.n_embd;
    const key = file.tensors.get('vit.encoder.layer.2.attention.attention.key.weight')!.data; // nn.Linear [out, in]
    const fused = weights.layers[2]!.attnQkvWeight;
    // Input i, key output j sits in column d + j of the fused row i.
    for (const [i, j] of [[0, 0], [5, 17], [127, 100]] as const) expect(fused[i * 3 * d + d + j]).toBe(key[j * d + i]);
    const positions = file.tensors.get('vit.embeddings.position_embeddings')!.data;
    expect(weights.patches!.positions.subarray(0, d)).toEqual(positions.subarray(d, 2 * d)); // patch 0
    expect(weights.patches!.positions.subarray(64 * d)).toEqual(positions.subarray(0, d)); // CLS
  });

  it('points out Conv1D-layout matrices where nn.Linear belongs', () => {
    const file = withTensors(vitFile(), (tensors) => {
      tensors.set('vit.encoder.layer.0.intermediate.dense.weight', { dtype: 'F32', shape: [128, 512], data: new Float32Array(128 * 512) });
    });
    expectWeightsError(file, vitConfig, /has shape \[128, 512\], expected \[512, 128\].*stores nn\.Linear weights as \[out, in\]/);
  });
});
