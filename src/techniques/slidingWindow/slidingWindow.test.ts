import { describe, expect, it } from 'vitest';
import { denseKeyBlocks } from '../../engine/plan';
import { parseModelConfig } from '../../models/config';
import { buildPlan } from '../buildPlan';
import { slidingWindow } from './slidingWindow';

const gpt2 = parseModelConfig({ n_layer: 4, n_head: 2, n_embd: 8, n_positions: 256, vocab_size: 10, layer_norm_epsilon: 1e-5 });
// shapes-vit's geometry: 8×8 patches + CLS = 65 tokens, the CLS in the engine's last row.
const vit = parseModelConfig({
  model_type: 'vit', hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, image_size: 64,
  patch_size: 8, num_channels: 3, id2label: { 0: 'a' },
});
// 64 image tokens (a bidirectional prefix) and up to 8 text tokens.
const vlm = parseModelConfig({
  model_type: 'shapes-vqa', n_layer: 2, n_head: 2, n_embd: 16, n_inner: 32, image_size: 64, patch_size: 8, num_channels: 3,
  num_image_tokens: 64, max_text_tokens: 8, vocab_size: 11, attention: 'prefix-lm',
});

const window = (sinkTokens: number, windowTokens: number, granularity = 'token', fromLayer = 0) => [
  { id: 'sliding-window', params: { sinkTokens, windowTokens, fromLayer, granularity } },
];

describe('sliding window + sinks: tiles and token window', () => {
  it('causal: the sink tile, the tiles the window reaches and the diagonal; the window itself goes to the kernel', () => {
    const layer = buildPlan(gpt2, 100, window(4, 20)).layers[0]!;
    expect(layer.tokenWindow).toEqual({ sinks: 4, window: 20 });
    // Query block 5 starts at token 80; a 20-token window reaches back to token 61, i.e. block 3.
    expect(layer.keyBlocks[0]![5]).toEqual([0, 3, 4, 5]);
    // Sinks spanning two blocks; a one-token window leaves only the diagonal besides them.
    expect(buildPlan(gpt2, 100, window(17, 1)).layers[0]!.keyBlocks[1]![6]).toEqual([0, 1, 6]);
  });

  it('bidirectional rows read later tiles within the window: W ≥ T with no sinks lists every tile, as dense does', () => {
    for (const windowTokens of [65, 1024]) {
      const plan = buildPlan(vit, 65, window(0, windowTokens));
      expect(plan.layers[0]!.keyBlocks).toEqual(denseKeyBlocks(65, 2, 65));
    }
    // On the VLM the image queries of block 1 (rows 16–31) reach forward to row 50 (block 3); the first text query
    // (row 64) reaches back to row 45 (block 2) and never forward.
    const lists = buildPlan(vlm, 70, window(0, 20)).layers[0]!.keyBlocks[0]!;
    expect(lists[0]).toEqual([0, 1, 2]);
    expect(lists[1]).toEqual([0, 1, 2, 3]);
    expect(lists[4]).toEqual([2, 3, 4]);
  });

  it('on a ViT the sink is CLS, the last row: every query block reads its tile and skips patch tiles out of reach', () => {
    const layer = buildPlan(vit, 65, window(1, 1)).layers[0]!;
    expect(layer.keyBlocks[0]).toEqual([[0, 4], [1, 4], [2, 4], [3, 4], [4]]);
  });

  it('block granularity keeps the same tiles and no token window', () => {
    const exact = buildPlan(gpt2, 100, window(4, 20)).layers[0]!;
    const whole = buildPlan(gpt2, 100, window(4, 20, 'block')).layers[0]!;
    expect(whole.tokenWindow).toBeNull();
    expect(whole.keyBlocks).toEqual(exact.keyBlocks);
  });

  it('leaves layers before fromLayer dense', () => {
    const plan = buildPlan(gpt2, 100, window(4, 16, 'token', 2));
    expect(plan.layers.map((l) => l.tokenWindow)).toEqual([null, null, { sinks: 4, window: 16 }, { sinks: 4, window: 16 }]);
    expect(plan.layers[1]!.keyBlocks).toEqual(denseKeyBlocks(100, 2));
    expect(plan.layers[2]!.keyBlocks[1]![6]).toEqual([0, 5, 6]);
  });

  it('whole tiles widen the window by up to 30 keys, as the help says', () => {
    const granularity = slidingWindow.params.find((p) => p.key === 'granularity')!;
    expect(granularity.default).toBe('token');
    expect(granularity.help).toMatch(/window by up to 30 tokens/);
    let widest = 0;
    for (let windowTokens = 1; windowTokens <= 48; windowTokens++) {
      const lists = buildPlan(gpt2, 128, window(0, windowTokens, 'block')).layers[0]!.keyBlocks[0]!;
      for (let i = 0; i < 128; i++) {
        const read = lists[Math.floor(i / 16)]!.reduce((sum, k) => sum + Math.max(0, Math.min(16 * k + 16, i + 1) - 16 * k), 0);
        widest = Math.max(widest, read - Math.min(windowTokens, i + 1));
      }
    }
    expect(widest).toBe(30);
  });
});
