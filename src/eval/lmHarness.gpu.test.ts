import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argmax, softmax } from '../engine/distributions';
import { GpuContext } from '../engine/gpuContext';
import { TransformerEngine } from '../engine/transformerEngine';
import { nodeDevice } from '../engine/nodeDevice';
import { parseModelConfig } from '../models/config';
import { weightsFromSafetensors } from '../models/modelWeights';
import { parseSafetensors } from '../models/safetensors';
import { createOrtReference, type OrtReference } from '../reference/ortReference';
import { evaluateLm, type LmEvalItem } from './lmHarness';

const folder = 'public/models/tiny-random-gpt2';
const config = parseModelConfig(JSON.parse(readFileSync(`${folder}/config.json`, 'utf8')));
// One byte per character, so any token id round-trips through the items' strings.
const encode = (text: string) => Array.from(text, (c) => c.charCodeAt(0));
const decode = (ids: number[]) => String.fromCharCode(...ids);

let engine: TransformerEngine;
let reference: OrtReference;
let items: LmEvalItem[];
const denseNextToken = async (ids: number[]) => softmax((await reference.logits(ids)).subarray((ids.length - 1) * config.vocab_size));

beforeAll(async () => {
  const bytes = readFileSync(`${folder}/model.safetensors`);
  const weights = weightsFromSafetensors(parseSafetensors(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), config);
  engine = new TransformerEngine(new GpuContext(await nodeDevice()), config, weights);
  reference = await createOrtReference(new Uint8Array(readFileSync(`${folder}/onnx/model.onnx`)), { provider: 'wasm' });
  // The answer of each item is what onnxruntime-web decodes greedily: the dense engine must score 100%.
  const prompts = ['The quick brown fox jumps over the lazy dog. ', 'Sparse attention reads fewer blocks; ', 'x'.repeat(70)];
  items = [];
  for (const [index, prompt] of prompts.entries()) {
    const ids = encode(prompt);
    for (let step = 0; step < 3; step++) ids.push(argmax(await denseNextToken(ids)));
    items.push({ task: 'greedy', length: ids.length, depth: index / 2, prompt, answer: decode(ids.slice(-3)) });
  }
});
afterAll(async () => {
  engine.destroy();
  await reference.dispose();
});

describe('the LM evaluation harness', () => {
  it('scores the dense engine at 100% on answers onnxruntime-web decoded, with full agreement and no KL', async () => {
    const report = await evaluateLm(engine, items, { encode, active: [], denseNextToken });
    expect(report.accuracy).toBe(1);
    expect(report.cells['greedy']).toEqual({ correct: 3, total: 3 });
    expect(report.cells['greedy L=48 depth=0']).toEqual({ correct: 1, total: 1 });
    expect(report.top1Agreement).toBe(1);
    expect(report.meanKl!).toBeLessThan(1e-6);
    expect(report.flops.executed).toBe(report.flops.dense);
  });

  it('under FastV decodes token by token on fewer tokens, and reports the FLOPs it saved', async () => {
    const report = await evaluateLm(engine, items, { encode, active: [{ id: 'fastv', params: { layer: 1, ratio: 0.75, queries: 'last' } }], denseNextToken });
    expect(report.flops.executed).toBeLessThan(report.flops.dense);
    expect(report.meanKl!).toBeGreaterThan(0);
    expect(report.cells['greedy']!.total).toBe(3);
  });

  it('under Monte-Carlo dropout averages the samples, reproducibly', async () => {
    const active = [{ id: 'attention-dropout', params: { rate: 0.3, seed: 5, samples: 2 } }];
    const first = await evaluateLm(engine, items, { encode, active, denseNextToken });
    const again = await evaluateLm(engine, items, { encode, active, denseNextToken });
    expect(again).toEqual(first);
    expect(first.flops.executed).toBeGreaterThan(first.flops.dense);
  });
});
