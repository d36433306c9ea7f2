import { attendedKeyBlocks } from '../engine/layerSteps';
import { ATTENTION_BLOCK, blockCount, keyVisible, tokenMask, type LayerPlan } from '../engine/plan';
import type { TransformerConfig } from '../models/config';

/**
 * Share of the dense attention mass [heads, n, n] that a layer as it ran kept: per head that runs and per query,
 * the dense probabilities of the keys it computed (listed tiles, under its mask and key mask), averaged. 1 for dense
 * attention; spec §6 ("kept attention mass") reports it next to density and output error.
 */
export function keptAttentionMass(config: TransformerConfig, layer: LayerPlan, denseProbs: Float32Array): number {
  const n = layer.tokens;
  const mask = tokenMask(config, layer);
  const lists = attendedKeyBlocks(layer);
  let kept = 0;
  let rows = 0;
  for (const h of layer.heads) {
    for (let q = 0; q < blockCount(n); q++) {
      for (let i = q * ATTENTION_BLOCK; i < Math.min(n, (q + 1) * ATTENTION_BLOCK); i++) {
        rows++;
        for (const k of lists[h]![q]!) {
          for (let j = k * ATTENTION_BLOCK; j < Math.min(n, (k + 1) * ATTENTION_BLOCK); j++) {
            if (keyVisible(mask, i, j, h)) kept += denseProbs[(h * n + i) * n + j]!;
          }
        }
      }
    }
  }
  return rows > 0 ? kept / rows : 1;
}
