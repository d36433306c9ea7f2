/**
 * SALE against the PyTorch reference (tools/sparse_reference/sale.py, ALGORITHM.md): on every golden fixture the CPU
 * twin and the WGSL estimator (both dot variants) choose exactly the fixture's key blocks, and exact attention over
 * that choice gives the fixture's output rows within 1e-4 relative.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { attention } from '../../engine/cpu/kernels';
import { GpuContext } from '../../engine/gpuContext';
import { relativeError } from '../../engine/kernelHarness';
import { nodeDevice } from '../../engine/nodeDevice';
import { denseKeyBlocks } from '../../engine/plan';
import { randomQkv, recallLmQkv } from '../goldenInputs.testutil';
import { saleForced, saleSelect, type SaleMode, type SaleShape } from './sale';
import { emulatedDot, gpuSelect } from './saleGpu.testutil';

interface Fixture {
  input: { kind: 'random'; seed: number; tokens: number; heads: number; headDim: number; qScale: number } | { kind: 'recall-lm'; layer: number };
  params: { tau: number | number[]; mode: SaleMode };
  keyBlocks: number[][][];
  forced: number[][][];
  outputRows: number[];
  output: string;
}

const sources = import.meta.glob<string>('./__fixtures__/*.json', { query: '?raw', import: 'default', eager: true });
const fixtures = Object.entries(sources).map(([path, text]) => ({ name: path.replace('./__fixtures__/', ''), fixture: JSON.parse(text) as Fixture }));

function inputOf(fixture: Fixture): { qkv: Float32Array; tokens: number; heads: number; headDim: number } {
  const input = fixture.input;
  if (input.kind === 'random') {
    return { qkv: randomQkv(input.seed, input.tokens, input.heads, input.headDim, input.qScale), tokens: input.tokens, heads: input.heads, headDim: input.headDim };
  }
  const { layers, ...meta } = recallLmQkv();
  return { qkv: layers[input.layer]!, ...meta };
}

function base64Floats(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

let context: GpuContext;
beforeAll(async () => {
  context = new GpuContext(await nodeDevice());
});

it('finds the fixtures', () => expect(fixtures.length).toBeGreaterThanOrEqual(7));

describe.each(fixtures)('SALE golden fixture $name', ({ fixture }) => {
  it('CPU twin and WGSL choose the fixture\'s blocks; attention over them gives its output', async () => {
    const { qkv, tokens, heads, headDim } = inputOf(fixture);
    const shape: SaleShape = { tokens, bidirectionalPrefix: 0, firstTokenRow: 0 };
    const tau = typeof fixture.params.tau === 'number' ? Array<number>(heads).fill(fixture.params.tau) : fixture.params.tau;
    const allowed = denseKeyBlocks(tokens, heads);
    const twin = saleSelect(qkv, shape, heads, headDim, allowed, { tau, mode: fixture.params.mode });
    expect(twin.keyBlocks, 'CPU twin').toEqual(fixture.keyBlocks);
    expect(saleForced(shape, allowed, tau), 'forced').toEqual(fixture.forced);
    expect(await gpuSelect(context, qkv, shape, heads, headDim, allowed, tau, fixture.params.mode, null), 'WGSL').toEqual(fixture.keyBlocks);
    expect(await gpuSelect(context, qkv, shape, heads, headDim, allowed, tau, fixture.params.mode, emulatedDot), 'WGSL, emulated dot').toEqual(fixture.keyBlocks);

    const channels = heads * headDim;
    const out = attention(qkv, twin.keyBlocks, { tokens, bidirectionalPrefix: 0, tokenWindow: null, firstTokenRow: 0 }, heads, headDim).out;
    const rows = Float32Array.from(fixture.outputRows.flatMap((r) => Array.from(out.subarray(r * channels, (r + 1) * channels))));
    expect(relativeError(rows, base64Floats(fixture.output))).toBeLessThanOrEqual(1e-4);
  });
});
