/**
 * DHSA against the PyTorch reference (tools/sparse_reference/dhsa.py, ALGORITHM.md): the CPU twin finds the
 * fixture's boundaries and exactly its per-query-block key sets, and attention over that selection gives the
 * fixture's output rows within 1e-4 relative.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attention } from '../../engine/cpu/kernels';
import { relativeError } from '../../engine/kernelHarness';
import { denseKeyBlocks, tokenMask } from '../../engine/plan';
import { parseModelConfig } from '../../models/config';
import { boundaryScores, selectBoundaries, selectionFromBlocks, selectKeys } from './dhsa';
import { randomQkv, recallLmQkv } from '../goldenInputs.testutil';

const dir = 'src/techniques/dhsa/__fixtures__';

interface Fixture {
  input: { kind: 'random'; seed: number; tokens: number; heads: number; headDim: number; qScale: number } | { kind: 'recall-lm'; layer: number };
  params: { budget: number; localTokens: number; globalTokens: number; chunkMultiplier: number };
  boundaries: number[];
  keys: number[][];
  outputRows: number[];
  output: string;
}

const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe.each(files)('DHSA golden fixture %s', (file) => {
  const fixture = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as Fixture;
  const input = fixture.input;
  const { first, qkv, tokens, heads, headDim } =
    input.kind === 'random'
      ? { ...input, qkv: randomQkv(input.seed, input.tokens, input.heads, input.headDim, input.qScale), first: randomQkv(input.seed, input.tokens, input.heads, input.headDim, input.qScale) }
      : (() => {
          const r = recallLmQkv();
          return { ...r, first: r.layers[0]!, qkv: r.layers[input.layer]! };
        })();
  const params = { ...fixture.params };

  it('boundaries and key sets are the fixture\'s, attention over them its output', () => {
    const boundaries = selectBoundaries(boundaryScores(first, tokens, heads * headDim), tokens, params.chunkMultiplier);
    expect(boundaries).toEqual(fixture.boundaries);
    const blocks = selectKeys(qkv, boundaries, { tokens, heads, headDim, bidirectionalPrefix: 0, firstTokenRow: 0 }, params);
    fixture.keys.forEach((keys, b) => expect(blocks[b]!.keys, `query block ${b}`).toEqual(keys));
    const selection = selectionFromBlocks(blocks, tokens, denseKeyBlocks(tokens, heads));
    const config = parseModelConfig({ n_layer: 1, n_head: heads, n_embd: heads * headDim, n_positions: tokens, vocab_size: 2, layer_norm_epsilon: 1e-5 });
    const mask = { ...tokenMask(config, { tokens, bidirectionalPrefix: 0, tokenWindow: null }), keyMask: selection.keyMask };
    const out = attention(qkv, selection.keyBlocks, mask, heads, headDim).out;
    const channels = heads * headDim;
    const rows = fixture.outputRows.flatMap((i) => Array.from(out.subarray(i * channels, (i + 1) * channels)));
    const bytes = Buffer.from(fixture.output, 'base64');
    const expected = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    expect(relativeError(rows, expected)).toBeLessThanOrEqual(1e-4);
  });
});
