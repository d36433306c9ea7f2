import type { Gpt2Config } from '../models/config';
import type { Gpt2Weights } from '../models/gpt2Weights';
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
export function randomGpt2Weights(config: Gpt2Config, seed: number): Gpt2Weights {
  const { n_embd: c, n_layer: layers, n_positions: positions, vocab_size: vocab } = config;
  let next = seed;
  const tensor = (length: number, scale: number, offset = 0) => seededFloats(length, next++, scale).map((v) => v + offset);
  return {
    wte: tensor(vocab * c, 0.5),
    wpe: tensor(positions * c, 0.1),
    layers: Array.from({ length: layers }, () => ({
      ln1Weight: tensor(c, 0.2, 1), ln1Bias: tensor(c, 0.1),
      attnQkvWeight: tensor(c * 3 * c, 0.3), attnQkvBias: tensor(3 * c, 0.05),
      attnProjWeight: tensor(c * c, 0.2), attnProjBias: tensor(c, 0.05),
      ln2Weight: tensor(c, 0.2, 1), ln2Bias: tensor(c, 0.1),
      mlpFcWeight: tensor(c * 4 * c, 0.2), mlpFcBias: tensor(4 * c, 0.05),
      mlpProjWeight: tensor(4 * c * c, 0.1), mlpProjBias: tensor(c, 0.05),
    })),
    lnFWeight: tensor(c, 0.2, 1),
    lnFBias: tensor(c, 0.1),
  };
}
