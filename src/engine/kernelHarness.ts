import type { TransformerConfig } from '../models/config';
import type { TransformerWeights } from '../models/modelWeights';
import { Frame, GpuContext, readFloat32 } from './gpuContext';
import { KernelRecorder } from './kernels';

/**
 * Runs a few recorded kernels on their own and reads chosen buffers back: how the conformance tests and the kernel
 * benchmarks exercise one kernel at a time against its CPU twin.
 */
export async function runKernels(
  context: GpuContext,
  record: (kernels: KernelRecorder, frame: Frame) => Record<string, { buffer: GPUBuffer; length: number }>,
): Promise<Record<string, Float32Array>> {
  const frame = new Frame(context);
  try {
    const encoder = context.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const outputs = record(new KernelRecorder(context, frame, pass), frame);
    pass.end();
    const reads = Object.entries(outputs).map(([name, { buffer, length }]) => {
      const read = frame.readback(length * 4, `${name} read`);
      encoder.copyBufferToBuffer(buffer, 0, read, 0, length * 4);
      return { name, read, length };
    });
    context.device.pushErrorScope('validation');
    context.device.queue.submit([encoder.finish()]);
    const error = await context.device.popErrorScope();
    if (error) throw new Error(error.message);
    const entries = await Promise.all(reads.map(async ({ name, read, length }) => [name, await readFloat32(read, length)] as const));
    return Object.fromEntries(entries);
  } finally {
    frame.release();
  }
}

/** Largest absolute difference divided by the largest reference magnitude: a scale-free error for a whole tensor. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} ≠ ${expected.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}

export function maxAbsDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(actual[i]! - expected[i]!));
  return max;
}

/** Deterministic pseudo-random floats in [-scale, scale) (a 32-bit LCG), for test tensors. */
export function seededFloats(length: number, seed: number, scale = 1): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 4294967296 - 0.5) * 2 * scale;
  });
}

/** A GPT-2 with seeded random weights of any shape, built in memory for tests that need no model file. */
export function randomGpt2Weights(config: TransformerConfig, seed: number): TransformerWeights {
  const { n_embd: c, n_positions: positions, vocab_size: vocab } = config;
  const random = seededTensors(seed);
  const wte = random(vocab * c, 0.5);
  return { ...randomBlocks(config, random), tokens: { wte, wpe: random(positions * c, 0.1) }, patches: null, headWeight: wte, headBias: null };
}

/**
 * An image model with seeded random weights: a ViT classifier (`config.image.cls`) or a VLM's image prefix and text,
 * for engine tests on shapes no model file has.
 */
export function randomImageModelWeights(config: TransformerConfig, seed: number): TransformerWeights {
  const { n_embd: c, vocab_size: vocab } = config;
  const image = config.image!;
  const random = seededTensors(seed);
  const patches = {
    weight: random(image.channels * image.patch * image.patch * c, 0.1),
    bias: random(c, 0.05),
    positions: random(config.imageTokens * c, 0.1),
    cls: image.cls ? random(c, 0.5) : null,
  };
  if (image.cls) return { ...randomBlocks(config, random), tokens: null, patches, headWeight: random(vocab * c, 0.5), headBias: random(vocab, 0.1) };
  const wte = random(vocab * c, 0.5);
  return { ...randomBlocks(config, random), tokens: { wte, wpe: random(config.maxTextTokens * c, 0.1) }, patches, headWeight: wte, headBias: null };
}

type SeededTensor = (length: number, scale: number, offset?: number) => Float32Array;

function seededTensors(seed: number): SeededTensor {
  let next = seed;
  return (length, scale, offset = 0) => seededFloats(length, next++, scale).map((v) => v + offset);
}

function randomBlocks(config: TransformerConfig, tensor: SeededTensor): Pick<TransformerWeights, 'layers' | 'lnFWeight' | 'lnFBias'> {
  const { n_embd: c, n_inner: inner, n_layer: layers } = config;
  return {
    layers: Array.from({ length: layers }, () => ({
      ln1Weight: tensor(c, 0.2, 1), ln1Bias: tensor(c, 0.1),
      attnQkvWeight: tensor(c * 3 * c, 0.3), attnQkvBias: tensor(3 * c, 0.05),
      attnProjWeight: tensor(c * c, 0.2), attnProjBias: tensor(c, 0.05),
      ln2Weight: tensor(c, 0.2, 1), ln2Bias: tensor(c, 0.1),
      mlpFcWeight: tensor(c * inner, 0.2), mlpFcBias: tensor(inner, 0.05),
      mlpProjWeight: tensor(inner * c, 0.1), mlpProjBias: tensor(c, 0.05),
    })),
    lnFWeight: tensor(c, 0.2, 1),
    lnFBias: tensor(c, 0.1),
  };
}
