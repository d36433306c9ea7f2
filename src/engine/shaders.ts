import attention from '../../shaders/attention.wgsl?raw';
import compact from '../../shaders/compact.wgsl?raw';
import embed from '../../shaders/embed.wgsl?raw';
import estimate from '../../shaders/estimate.wgsl?raw';
import gatherRows from '../../shaders/gather_rows.wgsl?raw';
import layernorm from '../../shaders/layernorm.wgsl?raw';
import lmHead from '../../shaders/lm_head.wgsl?raw';
import matmul from '../../shaders/matmul.wgsl?raw';
import patchEmbed from '../../shaders/patch_embed.wgsl?raw';
import random from '../../shaders/random.wgsl?raw';
import selectKeep from '../../shaders/select_keep.wgsl?raw';
import { preprocessWgsl } from './wgsl';

/** The engine's shader library, keyed by file name so `#include "random.wgsl"` resolves against it. */
export const shaderLibrary: Readonly<Record<string, string>> = {
  'attention.wgsl': attention,
  'compact.wgsl': compact,
  'embed.wgsl': embed,
  'estimate.wgsl': estimate,
  'gather_rows.wgsl': gatherRows,
  'layernorm.wgsl': layernorm,
  'lm_head.wgsl': lmHead,
  'matmul.wgsl': matmul,
  'patch_embed.wgsl': patchEmbed,
  'random.wgsl': random,
  'select_keep.wgsl': selectKeep,
};

const expanded = new Map<string, string>();

/** A shader with its includes expanded; memoised, since kernels are recorded many times per forward pass. */
function expand(source: string): string {
  let result = expanded.get(source);
  if (result === undefined) {
    result = preprocessWgsl(source, shaderLibrary);
    expanded.set(source, result);
  }
  return result;
}

export function engineShader(fileName: string): string {
  const source = shaderLibrary[fileName];
  if (source === undefined) throw new Error(`unknown shader ${fileName}`);
  return expand(source);
}

/** A technique's own shader, which may include the engine's library files. */
export function techniqueShader(source: string): string {
  return expand(source);
}
