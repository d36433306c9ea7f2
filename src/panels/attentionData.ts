import type { AttentionCapture } from '../engine/result';
import type { AttentionMapData } from './attentionHeatmap';

/**
 * One head of a captured layer, or the mean over heads, as the heatmap's data. For the mean, a tile counts as
 * computed when any head computed it (a skipped tile then contributes 0 for the heads that skipped it).
 * `visiblePrefix`: keys below this original position are visible to every query (0: causal attention).
 */
export function attentionMapData(capture: AttentionCapture, tokens: string[], head: number | 'mean', visiblePrefix: number): AttentionMapData {
  const { tokens: n, heads } = capture;
  const tilesPerHead = capture.computedTiles.length / heads;
  let probs: Float32Array;
  let computedTiles: Uint8Array;
  let forcedTiles: Uint8Array | null = null;
  if (head === 'mean') {
    probs = new Float32Array(n * n);
    computedTiles = new Uint8Array(tilesPerHead);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < n * n; i++) probs[i] = (probs[i] ?? 0) + (capture.probs[h * n * n + i] ?? 0) / heads;
      for (let t = 0; t < tilesPerHead; t++) computedTiles[t] = (computedTiles[t] ?? 0) | (capture.computedTiles[h * tilesPerHead + t] ?? 0);
    }
    // A tile is forced for the mean only where every head was forced to compute it.
    if (capture.forcedTiles) {
      const forced = capture.forcedTiles;
      forcedTiles = Uint8Array.from({ length: tilesPerHead }, (_, t) => (Array.from({ length: heads }, (_, h) => forced[h * tilesPerHead + t]).every(Boolean) ? 1 : 0));
    }
  } else {
    probs = capture.probs.subarray(head * n * n, (head + 1) * n * n);
    computedTiles = capture.computedTiles.subarray(head * tilesPerHead, (head + 1) * tilesPerHead);
    forcedTiles = capture.forcedTiles?.subarray(head * tilesPerHead, (head + 1) * tilesPerHead) ?? null;
  }
  // A key mask is per head (or shared): the mean of heads cannot say which keys one head was denied.
  const perHeadKeys = capture.mask.keyMask?.perHead && head === 'mean';
  const keyMask = perHeadKeys ? null : (capture.mask.keyMask ?? null);
  const windowMask = capture.mask.tokenWindow || keyMask ? { ...capture.mask, keyMask } : null;
  return {
    tokens, positions: capture.positions, probs, computedTiles, forcedTiles, blockSize: capture.blockSize, layer: capture.layer, head, visiblePrefix,
    windowMask, maskHead: head === 'mean' ? 0 : head,
  };
}
