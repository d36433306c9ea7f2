import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrtReference, OrtReferenceError, type OrtReference } from './ortReference';

interface GoldenCase {
  name: string;
  input_ids: number[];
  logits: number[];
}

const golden: { config: { vocab_size: number }; cases: GoldenCase[] } = JSON.parse(
  readFileSync(new URL('../engine/__fixtures__/tiny-gpt2-golden.json', import.meta.url), 'utf8'),
);
const onnxBytes = readFileSync(new URL('../../public/models/tiny-random-gpt2/onnx/model.onnx', import.meta.url));

function maxAbsDifference(actual: Float32Array, expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(actual[i]! - expected[i]!));
  return max;
}

describe('onnxruntime-web (wasm) reference on the tiny model', () => {
  let reference: OrtReference;
  beforeAll(async () => {
    reference = await createOrtReference(new Uint8Array(onnxBytes), { provider: 'wasm' });
  });
  // Optional: when beforeAll failed there is nothing to dispose, and its error is the one worth reading.
  afterAll(() => reference?.dispose());

  it.each(golden.cases.map((c) => [c.name, c] as const))('reproduces the PyTorch logits for %s', async (_, c) => {
    const logits = await reference.logits(c.input_ids);
    expect(logits.length).toBe(c.input_ids.length * golden.config.vocab_size);
    expect(maxAbsDifference(logits, c.logits)).toBeLessThanOrEqual(1e-4);
  });

  it('answers overlapping requests, each with its own logits', async () => {
    const [hello, sequence] = golden.cases;
    const results = await Promise.all([reference.logits(hello!.input_ids), reference.logits(sequence!.input_ids)]);
    expect(maxAbsDifference(results[0], hello!.logits)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDifference(results[1], sequence!.logits)).toBeLessThanOrEqual(1e-4);
  });

  it('rejects an empty or non-integer input with an OrtReferenceError', async () => {
    await expect(reference.logits([])).rejects.toThrow(OrtReferenceError);
    await expect(reference.logits([1, 2.5])).rejects.toThrow('non-negative integers, got [1, 2.5]');
  });

  it('rejects bytes that are not an ONNX model', async () => {
    await expect(createOrtReference(new Uint8Array([1, 2, 3]), { provider: 'wasm' })).rejects.toThrow(
      /could not load the model with the wasm provider/,
    );
  });
});
