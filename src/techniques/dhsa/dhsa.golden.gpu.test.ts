/**
 * DHSA's WGSL estimator on the golden fixtures (tools/sparse_reference/dhsa.py): the boundaries it leaves in its
 * forward-scoped scratch and the key sets it writes are exactly the fixture's (and its CPU twin's).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../engine/gpuContext';
import { runKernels } from '../../engine/kernelHarness';
import { nodeDevice } from '../../engine/nodeDevice';
import { ATTENTION_BLOCK, denseKeyBlocks, wordsPerRow, type EstimatorBinding } from '../../engine/plan';
import { packKeyBlocks } from '../../engine/transformerEngine';
import { parseModelConfig } from '../../models/config';
import { dhsaEstimator, dhsaReference } from './dhsa';
import { randomQkv, recallLmQkv } from '../goldenInputs.testutil';

const dir = 'src/techniques/dhsa/__fixtures__';
let context: GpuContext;
beforeAll(async () => {
  context = new GpuContext(await nodeDevice());
});

describe.each(readdirSync(dir).filter((f) => f.endsWith('.json')))('DHSA WGSL estimator on %s', (file) => {
  it('writes the fixture\'s boundaries and key sets', async () => {
    const fixture = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as {
      input: { kind: 'random'; seed: number; tokens: number; heads: number; headDim: number; qScale: number } | { kind: 'recall-lm'; layer: number };
      params: Record<string, number>; boundaries: number[]; keys: number[][];
    };
    const input = fixture.input;
    const { layers, tokens, heads, headDim } = input.kind === 'random'
      ? { ...input, layers: [randomQkv(input.seed, input.tokens, input.heads, input.headDim, input.qScale)] }
      : (() => {
          const r = recallLmQkv();
          return { ...r, layers: r.layers.slice(0, input.layer + 1) };
        })();
    const config = parseModelConfig({ n_layer: layers.length, n_head: heads, n_embd: heads * headDim, n_positions: tokens, vocab_size: 2, layer_norm_epsilon: 1e-5 });
    const planned = denseKeyBlocks(tokens, heads);
    const packed = packKeyBlocks(planned, tokens);
    const words = wordsPerRow(tokens);
    const params = { ...fixture.params };
    const state = new Map<string, unknown>();
    const last = layers.length - 1;
    let twin = null as ReturnType<typeof dhsaReference> | null;
    const read = await runKernels(context, (k, frame) => {
      const forward = new Map<string, GPUBuffer>();
      let outputs: Record<string, { buffer: GPUBuffer; length: number }> = {};
      layers.forEach((qkv, layer) => {
        const estimator = dhsaEstimator({ config, layer, tokens, blockSize: ATTENTION_BLOCK, bidirectionalPrefix: 0, planned }, params)!;
        twin = estimator.reference(qkv, planned, state);
        const counts = frame.storage(packed.counts.byteLength, 'counts');
        const indices = frame.storage(packed.indices.byteLength, 'indices');
        const keyMask = frame.storage(4 * tokens * words, 'key mask');
        const buffers = new Map<string, GPUBuffer>();
        const bind = (binding: EstimatorBinding): GPUBuffer => {
          const key = JSON.stringify(binding);
          if (buffers.has(key)) return buffers.get(key)!;
          let buffer: GPUBuffer;
          if (typeof binding === 'object') {
            if ('data' in binding) buffer = frame.storageWith(estimator.data[binding.data]!, binding.data);
            else {
              const scratch = estimator.scratch[binding.scratch]!;
              if (scratch.scope === 'forward') {
                if (!forward.has(binding.scratch)) forward.set(binding.scratch, frame.storage(scratch.bytes, binding.scratch));
                buffer = forward.get(binding.scratch)!;
              } else buffer = frame.storage(scratch.bytes, binding.scratch);
            }
          } else if (binding === 'qkv') buffer = frame.storageWith(qkv, 'qkv');
          else if (binding === 'allowedCounts') buffer = frame.storageWith(packed.counts, 'allowed counts');
          else if (binding === 'allowedIndices') buffer = frame.storageWith(packed.indices, 'allowed indices');
          else if (binding === 'counts') buffer = counts;
          else if (binding === 'indices') buffer = indices;
          else if (binding === 'keyMask') buffer = keyMask;
          else buffer = k.estimateShape({ tokens, heads, headDim, maxKeyBlocks: packed.maxKeyBlocks, bidirectionalPrefix: 0, firstTokenRow: 0, layer });
          buffers.set(key, buffer);
          return buffer;
        };
        k.estimate({ technique: 'dhsa', macs: 0, passes: estimator.passes.map((pass) => ({ ...pass, buffers: pass.bindings.map(bind) })) });
        if (layer === last) {
          outputs = {
            boundaries: { buffer: forward.get('boundaries')!, length: estimator.scratch['boundaries']!.bytes / 4 },
            keyMask: { buffer: keyMask, length: tokens * words },
            counts: { buffer: counts, length: packed.counts.length },
            indices: { buffer: indices, length: packed.indices.length },
          };
        }
      });
      return outputs;
    });
    const u32 = (name: string) => new Uint32Array(read[name]!.buffer, read[name]!.byteOffset, read[name]!.length);
    const boundaries = u32('boundaries');
    expect(Array.from(boundaries.subarray(1, 1 + boundaries[0]!))).toEqual(fixture.boundaries);
    const mask = u32('keyMask');
    expect(Array.from(mask)).toEqual(Array.from(twin!.keyMask!.bits));
    // The key set of each query block: the keys its first row's mask holds.
    fixture.keys.forEach((keys, b) => {
      const row = b * 32;
      const set: number[] = [];
      for (let j = 0; j < tokens; j++) if ((mask[row * words + (j >>> 5)]! >>> (j & 31)) & 1) set.push(j);
      expect(set, `query block ${b}`).toEqual(keys);
    });
    const counts = u32('counts');
    const indices = u32('indices');
    const lists = planned.map((head, h) => head.map((_, q) => Array.from(indices.subarray((h * head.length + q) * packed.maxKeyBlocks, (h * head.length + q) * packed.maxKeyBlocks + counts[h * head.length + q]!))));
    expect(lists).toEqual(twin!.keyBlocks);
  });
});
