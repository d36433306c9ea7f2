import type { GpuContext } from '../../engine/gpuContext';
import { runKernels } from '../../engine/kernelHarness';
import type { BlockEstimator, GpuFeatures, KeyBlockLists } from '../../engine/plan';
import { packKeyBlocks } from '../../engine/transformerEngine';
import { parseModelConfig } from '../../models/config';
import { sale, type SaleMode, type SaleShape } from './sale';

export const emulatedDot: GpuFeatures = { wgslLanguageFeatures: new Set() };

/** The estimator's passes run directly on `qkv`, with `features` deciding the dot variant (the adapter's when null). */
export async function gpuSelect(
  context: GpuContext,
  qkv: Float32Array, shape: SaleShape, heads: number, headDim: number, allowed: KeyBlockLists, tau: number | readonly number[], mode: SaleMode, features: GpuFeatures | null,
): Promise<KeyBlockLists> {
  const config = parseModelConfig({ n_layer: 1, n_head: heads, n_embd: heads * headDim, n_positions: 2048, vocab_size: 2, layer_norm_epsilon: 1e-5 });
  const base = sale.estimateKeyBlocks!(
    { config, layer: 0, tokens: shape.tokens, blockSize: 16, bidirectionalPrefix: shape.bidirectionalPrefix, planned: allowed },
    { tau: typeof tau === 'number' ? tau : tau[0]!, mode, denseBelow: 0 },
  )!;
  // Per-head τ (a calibrated fixture): the thresholds buffer is [λ, √d, τ_0 … τ_{H−1}].
  const taus = typeof tau === 'number' ? Array<number>(heads).fill(tau) : tau;
  const estimator: BlockEstimator = { ...base, data: { thresholds: Float32Array.from([1 / Math.sqrt(headDim), Math.sqrt(headDim), ...taus]) } };
  const packed = packKeyBlocks(allowed, shape.tokens, shape.bidirectionalPrefix);
  const slots = heads * packed.maxKeyBlocks;
  const out = await runKernels(context, (k, frame) => {
    const counts = frame.storageWith(new Uint32Array(slots), 'counts');
    const indices = frame.storageWith(new Uint32Array(slots * packed.maxKeyBlocks), 'indices');
    const buffers = new Map<string, GPUBuffer>();
    const bind = (binding: (typeof estimator.passes)[number]['bindings'][number]): GPUBuffer => {
      const key = JSON.stringify(binding);
      if (!buffers.has(key)) {
        if (typeof binding === 'object') {
          buffers.set(key, 'data' in binding ? frame.storageWith(estimator.data[binding.data]!, binding.data) : frame.storage(estimator.scratch[binding.scratch]!.bytes, binding.scratch));
        } else {
          const fixed: Record<string, GPUBuffer> = {
            qkv: frame.storageWith(qkv, 'qkv'), allowedCounts: frame.storageWith(packed.counts, 'allowed counts'), allowedIndices: frame.storageWith(packed.indices, 'allowed indices'),
            counts, indices,
            shape: k.estimateShape({ tokens: shape.tokens, heads, headDim, maxKeyBlocks: packed.maxKeyBlocks, bidirectionalPrefix: shape.bidirectionalPrefix, firstTokenRow: shape.firstTokenRow, layer: 0 }),
          };
          buffers.set(key, fixed[binding]!);
        }
      }
      return buffers.get(key)!;
    };
    k.estimate({
      technique: 'sale', macs: 0,
      passes: estimator.passes.map((pass) => ({ ...pass, source: features ? () => pass.source(features) : pass.source, buffers: pass.bindings.map(bind) })),
    });
    return { counts: { buffer: counts, length: slots }, indices: { buffer: indices, length: slots * packed.maxKeyBlocks } };
  });
  const counts = new Uint32Array(out['counts']!.buffer);
  const indices = new Uint32Array(out['indices']!.buffer);
  return allowed.map((lists, h) => lists.map((_, q) => {
    const slot = h * packed.maxKeyBlocks + q;
    return Array.from(indices.subarray(slot * packed.maxKeyBlocks, slot * packed.maxKeyBlocks + counts[slot]!));
  }));
}

