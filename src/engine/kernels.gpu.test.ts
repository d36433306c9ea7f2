import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelConfig } from '../models/config';
import { fastvScorer } from '../techniques/fastv/fastv';
import * as cpu from './cpu/kernels';
import { GpuContext } from './gpuContext';
import type { DropoutArgs } from './kernels';
import { packedPairs, packKeyBlocks } from './transformerEngine';
import { randomGpt2Weights, relativeError, runKernels, seededFloats } from './kernelHarness';
import { nodeDevice } from './nodeDevice';
import { denseKeyBlocks, visibleTiles, type KeyBlockLists, type TokenMask, type TokenWindow } from './plan';
import { DropoutSite } from './random';

const TOLERANCE = 1e-4;
let context: GpuContext;
const measured: { check: string; error: number }[] = [];

/** Asserts the kernel's output is within TOLERANCE of its twin's, and records the error for the summary below. */
function expectClose(check: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  const error = relativeError(actual, expected);
  measured.push({ check, error });
  expect(error, check).toBeLessThanOrEqual(TOLERANCE);
}

beforeAll(async () => {
  context = new GpuContext(await nodeDevice());
});

afterAll(() => {
  console.info(measured.map(({ check, error }) => `${check.padEnd(66)} ${error.toExponential(2)}`).join('\n'));
});

describe('WGSL kernels match their CPU twins', () => {
  it('embed, with and without embedding dropout', async () => {
    const tokens = 9, channels = 8, vocab = 11;
    const ids = Uint32Array.from({ length: tokens }, (_, i) => (i * 7) % vocab);
    const wte = seededFloats(vocab * channels, 1), wpe = seededFloats(20 * channels, 2);
    const dropout = { rate: 0.3, seed: 99, sample: 2, site: DropoutSite.Embedding, layer: 0 };
    const gpu = await runKernels(context, (k, frame) => {
      const buffers = { ids: frame.storageWith(ids, 'ids'), wte: frame.storageWith(wte, 'wte'), wpe: frame.storageWith(wpe, 'wpe') };
      const plain = frame.storage(tokens * channels * 4, 'plain');
      const dropped = frame.storage(tokens * channels * 4, 'dropped');
      k.embed({ ...buffers, out: plain, tokens, channels });
      k.embed({ ...buffers, out: dropped, tokens, channels, dropout });
      return { plain: { buffer: plain, length: tokens * channels }, dropped: { buffer: dropped, length: tokens * channels } };
    });
    expectClose('embed', gpu['plain']!, cpu.embed(ids, wte, wpe, channels));
    const expected = cpu.embed(ids, wte, wpe, channels, dropout);
    expectClose('embed with dropout', gpu['dropped']!, expected);
    // The masks must agree element for element, not just approximately.
    expect(Array.from(gpu['dropped']!, (v) => v === 0)).toEqual(Array.from(expected, (v) => v === 0));
    expect(expected.filter((v) => v === 0).length).toBeGreaterThan(5);
  });

  it('layerNorm with a row offset', async () => {
    const rows = 5, channels = 12, offset = 2;
    const x = seededFloats((rows + offset) * channels, 3, 3), gamma = seededFloats(channels, 4), beta = seededFloats(channels, 5);
    const gpu = await runKernels(context, (k, frame) => {
      const out = frame.storage(rows * channels * 4, 'out');
      k.layerNorm({ x: frame.storageWith(x, 'x'), gamma: frame.storageWith(gamma, 'g'), beta: frame.storageWith(beta, 'b'), out, rows, channels, rowOffset: offset, epsilon: 1e-5 });
      return { out: { buffer: out, length: rows * channels } };
    });
    expectClose('layerNorm', gpu['out']!, cpu.layerNorm(x, gamma, beta, rows, channels, offset, 1e-5));
  });

  it.each([
    { name: 'plain', m: 7, n: 12, k: 9 },
    { name: 'GELU tanh', m: 5, n: 20, k: 13, activation: 'gelu-tanh' as const },
    { name: 'GELU erf', m: 5, n: 20, k: 13, activation: 'gelu-erf' as const },
    { name: 'residual', m: 6, n: 8, k: 16, residual: true },
    { name: 'residual with dropout', m: 9, n: 16, k: 8, residual: true, dropout: true },
  ])('matmul: $name', async ({ name, m, n, k, activation, residual, dropout }) => {
    const a = seededFloats(m * k, 6), w = seededFloats(k * n, 7), bias = seededFloats(n, 8), res = seededFloats(m * n, 9);
    const drop = dropout ? { rate: 0.25, seed: 5, sample: 1, site: DropoutSite.Residual, layer: 3 } : undefined;
    const gpu = await runKernels(context, (kernels, frame) => {
      const out = frame.storage(m * n * 4, 'out');
      kernels.matmul({
        a: frame.storageWith(a, 'a'), w: frame.storageWith(w, 'w'), bias: frame.storageWith(bias, 'bias'), out, m, n, k, activation,
        residual: residual ? frame.storageWith(res, 'res') : undefined, dropout: drop,
      });
      return { out: { buffer: out, length: m * n } };
    });
    const expected = cpu.matmul(a, w, bias, m, n, k, { activation, residual: residual ? res : undefined, dropout: drop });
    expectClose(`matmul ${name}`, gpu['out']!, expected);
  });

  it('lmHead with a vocabulary that is not a multiple of 4, without and with a bias (classifier)', async () => {
    const m = 5, vocab = 13, channels = 8;
    const x = seededFloats(m * channels, 10), wte = seededFloats(vocab * channels, 11), bias = seededFloats(vocab, 17);
    const gpu = await runKernels(context, (k, frame) => {
      const buffers = { x: frame.storageWith(x, 'x'), wte: frame.storageWith(wte, 'wte') };
      const tied = frame.storage(m * vocab * 4, 'tied');
      const classifier = frame.storage(m * vocab * 4, 'classifier');
      k.lmHead({ ...buffers, out: tied, m, vocab, channels });
      k.lmHead({ ...buffers, bias: frame.storageWith(bias, 'bias'), out: classifier, m, vocab, channels });
      return { tied: { buffer: tied, length: m * vocab }, classifier: { buffer: classifier, length: m * vocab } };
    });
    expectClose('lmHead', gpu['tied']!, cpu.lmHead(x, wte, m, vocab, channels));
    expectClose('lmHead with bias', gpu['classifier']!, cpu.lmHead(x, wte, m, vocab, channels, bias));
  });

  it('patchEmbed: CLS and patch rows with position embeddings, with and without dropout', async () => {
    const geometry = { channels: 8, patch: 4, grid: 3, imageChannels: 3 };
    const side = geometry.grid * geometry.patch;
    const rows = geometry.grid * geometry.grid + 1;
    const pixels = seededFloats(3 * side * side, 18), weight = seededFloats(3 * 16 * 8, 19), bias = seededFloats(8, 20);
    const cls = seededFloats(8, 21), positions = seededFloats(rows * 8, 22);
    const dropout = { rate: 0.2, seed: 4, sample: 1, site: DropoutSite.Embedding, layer: 0 };
    const gpu = await runKernels(context, (k, frame) => {
      const buffers = {
        pixels: frame.storageWith(pixels, 'pixels'), weight: frame.storageWith(weight, 'weight'), bias: frame.storageWith(bias, 'bias'),
        cls: frame.storageWith(cls, 'cls'), positions: frame.storageWith(positions, 'positions'), ...geometry,
      };
      const plain = frame.storage(rows * 8 * 4, 'plain');
      const dropped = frame.storage(rows * 8 * 4, 'dropped');
      k.patchEmbed({ ...buffers, out: plain });
      k.patchEmbed({ ...buffers, out: dropped, dropout });
      return { plain: { buffer: plain, length: rows * 8 }, dropped: { buffer: dropped, length: rows * 8 } };
    });
    expectClose('patchEmbed', gpu['plain']!, cpu.patchEmbed(pixels, weight, bias, cls, positions, geometry));
    expectClose('patchEmbed with dropout', gpu['dropped']!, cpu.patchEmbed(pixels, weight, bias, cls, positions, geometry, dropout));
  });

  const tokens = 37, heads = 2, headDim = 8;
  // One sink token and a one-token window at block granularity: query block 2 skips block 1.
  const sliding: KeyBlockLists = Array.from({ length: heads }, () => [[0], [0, 1], [0, 2]]);
  const mask = (bidirectionalPrefix: number, tokenWindow: TokenWindow | null = null, firstTokenRow = 0): TokenMask => ({
    tokens, bidirectionalPrefix, tokenWindow, firstTokenRow,
  });
  /** The tiles the planner would list under `layerMask`. */
  const windowed = (layerMask: TokenMask) => visibleTiles(denseKeyBlocks(tokens, heads, layerMask.bidirectionalPrefix), layerMask);
  const causalWindow = mask(0, { sinks: 3, window: 5 });
  const prefixWindow = mask(20, { sinks: 2, window: 6 });
  // A ViT: CLS in the last row is token 0, the sink.
  const vitWindow = mask(tokens, { sinks: 1, window: 7 }, tokens - 1);
  it.each([
    { name: 'dense causal', lists: denseKeyBlocks(tokens, heads), layerMask: mask(0) },
    { name: 'sliding window at block granularity (block 1 of query block 2 skipped)', lists: sliding, layerMask: mask(0) },
    { name: 'dense with dropout', lists: denseKeyBlocks(tokens, heads), layerMask: mask(0), dropout: true },
    { name: 'bidirectional (ViT)', lists: denseKeyBlocks(tokens, heads, tokens), layerMask: mask(tokens) },
    { name: 'prefix LM, 20-token prefix (VLM)', lists: denseKeyBlocks(tokens, heads, 20), layerMask: mask(20) },
    { name: 'token window, causal (3 sinks, window 5)', lists: windowed(causalWindow), layerMask: causalWindow },
    { name: 'token window, causal, with dropout', lists: windowed(causalWindow), layerMask: causalWindow, dropout: true },
    { name: 'token window on a 20-token prefix (2 sinks, window 6)', lists: windowed(prefixWindow), layerMask: prefixWindow },
    { name: 'token window on a ViT, counted from the CLS row', lists: windowed(vitWindow), layerMask: vitWindow },
  ])('attention: $name, with capture', async ({ name, lists, layerMask, dropout }) => {
    const drop = dropout ? { rate: 0.2, seed: 77, sample: 3, site: DropoutSite.Attention, layer: 1 } : undefined;
    const { out, probs, expected } = await runAttention(lists, layerMask, 12, drop);
    expectClose(`attention ${name}: output`, out, expected.out);
    expectClose(`attention ${name}: probabilities`, probs, expected.probs);
  });

  it('sliding-window attention really skips tiles: the skipped keys get exactly zero probability', async () => {
    const { probs } = await runAttention(sliding, mask(0), 13);
    // One sink token and a one-token window: query 36 (block 2) reads block 0 (the sink) and block 2, not block 1.
    const row = 36 * tokens;
    expect(probs.slice(row + 16, row + 32).every((p) => p === 0)).toBe(true);
    expect(probs[row + 0]).toBeGreaterThan(0);
    const rowSum = probs.slice(row, row + tokens).reduce((a, b) => a + b, 0);
    expect(rowSum).toBeCloseTo(1, 5);
  });

  it('inside a bidirectional prefix queries see later prefix keys, and text queries stay causal', async () => {
    const prefix = 20;
    const { probs } = await runAttention(denseKeyBlocks(tokens, heads, prefix), mask(prefix), 16);
    const row = (i: number) => probs.slice(i * tokens, (i + 1) * tokens);
    expect(row(3)[19]).toBeGreaterThan(0); // a prefix query sees the last prefix key
    expect(row(3)[20]).toBe(0); // but no text key
    expect(row(25)[26]).toBe(0); // a text query sees no later key
    expect(row(25).slice(0, 26).every((p) => p > 0)).toBe(true);
  });

  /** The kernel's output and probabilities for `lists` under `layerMask`, on seeded qkv, and its CPU twin's. */
  async function runAttention(lists: KeyBlockLists, layerMask: TokenMask, seed: number, dropout?: DropoutArgs) {
    const qkv = seededFloats(tokens * 3 * heads * headDim, seed, 2);
    const packed = packKeyBlocks(lists, tokens, layerMask.bidirectionalPrefix);
    const gpu = await runKernels(context, (k, frame) => {
      const out = frame.storage(tokens * heads * headDim * 4, 'out');
      const probs = frame.storageWith(new Float32Array(heads * tokens * tokens), 'probs');
      k.attention({
        qkv: frame.storageWith(qkv, 'qkv'), blockCounts: frame.storageWith(packed.counts, 'counts'),
        blockIndices: frame.storageWith(packed.indices, 'indices'), out, probs, ...layerMask, heads, headDim,
        maxKeyBlocks: packed.maxKeyBlocks, executedPairs: packedPairs(packed, tokens), dropout,
      });
      return { out: { buffer: out, length: tokens * heads * headDim }, probs: { buffer: probs, length: heads * tokens * tokens } };
    });
    return { out: gpu['out']!, probs: gpu['probs']!, expected: cpu.attention(qkv, lists, layerMask, heads, headDim, dropout) };
  }

  it('a token window masks key by key inside a computed tile: exactly the sinks and the window keep probability', async () => {
    const { probs } = await runAttention(windowed(causalWindow), causalWindow, 17);
    // Query 36 reads tiles 0 and 2 (tile 1 holds neither a sink nor a key within 5): only keys 0–2 and 32–36 count.
    const row = probs.slice(36 * tokens, 37 * tokens);
    const kept = [...row.keys()].filter((j) => row[j]! > 0);
    expect(kept).toEqual([0, 1, 2, 32, 33, 34, 35, 36]);
    expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // On the ViT, patch row 0 (token 1) sees CLS (row 36, token 0) and tokens up to 7 (rows ≤ 6), nothing further.
    const vit = (await runAttention(windowed(vitWindow), vitWindow, 18)).probs;
    const patchRow = vit.slice(0, tokens);
    expect([...patchRow.keys()].filter((j) => patchRow[j]! > 0)).toEqual([0, 1, 2, 3, 4, 5, 6, 36]);
  });

  it('a query that sees no key gets output 0 and probabilities 0, not NaN', async () => {
    // Query block 1 lists nothing; query block 2 lists only block 0, where a window without sinks leaves it no key.
    const lists: KeyBlockLists = Array.from({ length: heads }, () => [[0], [], [0]]);
    const { out, probs, expected } = await runAttention(lists, mask(0, { sinks: 0, window: 5 }), 19);
    const channels = heads * headDim;
    expect(out.every(Number.isFinite) && probs.every(Number.isFinite)).toBe(true);
    expect(out.slice(16 * channels).every((v) => v === 0)).toBe(true);
    expect(out.slice(0, 16 * channels).some((v) => v !== 0)).toBe(true);
    expectClose('attention, queries without keys: output', out, expected.out);
    expectClose('attention, queries without keys: probabilities', probs, expected.probs);
  });

  it('selectKeep, prefix sum and gatherRows compact in order, with ties broken by index', async () => {
    const n = 300, channels = 4, keep = 120;
    // Repeated values force ties; the scan spans more than one element per thread (n > 256).
    const scores = Float32Array.from({ length: n }, (_, i) => ((i * 37) % 50) / 50);
    const x = seededFloats(n * channels, 14);
    const positions = Int32Array.from({ length: n }, (_, i) => 1000 + i);
    const gpu = await runKernels(context, (k, frame) => {
      const keepMask = frame.storage(n * 4, 'mask');
      const offsets = frame.storage(n * 4, 'offsets');
      const out = frame.storage(keep * channels * 4, 'out');
      const outPositions = frame.storage(keep * 4, 'out positions');
      k.selectKeep({ scores: frame.storageWith(scores, 'scores'), keepMask, tokens: n, keep });
      k.prefixSum({ keepMask, offsets, tokens: n });
      k.gatherRows({ keepMask, offsets, x: frame.storageWith(x, 'x'), positions: frame.storageWith(positions, 'pos'), out, outPositions, tokens: n, channels });
      return {
        keepMask: { buffer: keepMask, length: n }, offsets: { buffer: offsets, length: n },
        out: { buffer: out, length: keep * channels }, outPositions: { buffer: outPositions, length: keep },
      };
    });
    const asU32 = (f: Float32Array) => new Uint32Array(f.buffer);
    const mask = cpu.selectKeep(scores, keep);
    expect(Array.from(asU32(gpu['keepMask']!))).toEqual(Array.from(mask));
    expect(Array.from(asU32(gpu['offsets']!))).toEqual(Array.from(cpu.exclusivePrefixSum(mask)));
    const gathered = cpu.gatherRows(mask, x, positions, channels);
    expect(Array.from(gpu['out']!)).toEqual(Array.from(gathered.rows));
    expect(Array.from(new Int32Array(gpu['outPositions']!.buffer))).toEqual(Array.from(gathered.positions));
  });

  // Probabilities are random everywhere, also where the mask hides a key: a kernel that reads a query the mask
  // excludes, or skips one it allows, differs from its twin.
  it.each([
    { queries: 'last', mask: 'causal', prefix: 0, tail: 1 },
    { queries: 'all', mask: 'causal', prefix: 0, tail: 1 },
    { queries: 'all', mask: 'bidirectional (ViT)', prefix: 21, tail: 1 },
    { queries: 'all', mask: 'image prefix and a 5-token question (VLM)', prefix: 16, tail: 5 },
  ] as const)('FastV scorer ($queries queries, $mask)', async ({ queries, prefix, tail }) => {
    const n = 21, h = 3;
    const config = parseModelConfig({ n_layer: 2, n_head: h, n_embd: 12, n_positions: 64, vocab_size: 10, layer_norm_epsilon: 1e-5 });
    const probs = seededFloats(h * n * n, 15).map(Math.abs);
    const scorer = fastvScorer(n, config, queries, tail, prefix);
    const gpu = await runKernels(context, (k, frame) => {
      const scores = frame.storage(n * 4, 'scores');
      k.scoreTokens({
        source: scorer.source, constants: scorer.constants, probs: frame.storageWith(probs, 'probs'), scores, heads: h, tokens: n,
        protectedTail: tail, bidirectionalPrefix: prefix, macs: scorer.macs,
      });
      return { scores: { buffer: scores, length: n } };
    });
    expectClose(`FastV scorer, ${queries} queries, prefix ${prefix}, tail ${tail}`, gpu['scores']!.slice(0, n - tail), scorer.reference(probs, h, n, prefix, tail).slice(0, n - tail));
    expect(Array.from(gpu['scores']!.slice(n - tail)).every((score) => score > 1e30)).toBe(true);
  });

  it('random test weights are reproducible', () => {
    const config = parseModelConfig({ n_layer: 1, n_head: 2, n_embd: 8, n_positions: 16, vocab_size: 10, layer_norm_epsilon: 1e-5 });
    expect(randomGpt2Weights(config, 3)).toEqual(randomGpt2Weights(config, 3));
  });
});
