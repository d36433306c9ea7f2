import { visibleKeyCount, type KeyBlockLists, type TokenMask } from '../engine/plan';

/** (query, key) pairs: executed = every pair of a computed tile; useful = those the layer's mask lets through. */
export interface PairCount {
  executed: number;
  useful: number;
}

/**
 * Pairs of one (query block, key block) tile of a layer: executed = the tile clipped to the layer's tokens, as the
 * kernel walks it; useful = the executed pairs the layer's mask lets through, token window included.
 */
export function tilePairs(queryBlock: number, keyBlock: number, blockSize: number, mask: TokenMask, head = 0): PairCount {
  const q0 = queryBlock * blockSize;
  const q1 = Math.min(q0 + blockSize, mask.tokens);
  const k0 = keyBlock * blockSize;
  const k1 = Math.min(k0 + blockSize, mask.tokens);
  if (q1 <= q0 || k1 <= k0) return { executed: 0, useful: 0 };
  let useful = 0;
  for (let i = q0; i < q1; i++) useful += visibleKeyCount(mask, i, k0, k1, head);
  return { executed: (q1 - q0) * (k1 - k0), useful };
}

/** Pairs the dense mask allows for one head: causal, plus both directions inside the prefix. */
export function densePairs(tokens: number, bidirectionalPrefix: number): number {
  const prefix = Math.min(bidirectionalPrefix, tokens);
  return prefix * prefix + ((tokens - prefix) * (tokens + prefix + 1)) / 2;
}

/** Executed and useful pairs of one layer's key-block lists under its mask, summed over heads and query blocks. */
export function countPairs(lists: KeyBlockLists, mask: TokenMask, blockSize: number): PairCount {
  let executed = 0;
  let useful = 0;
  // Heads usually list the same tiles: count each tile once, unless each head masks its keys its own way.
  const tiles = new Map<number, PairCount>();
  const keyBlocksPerRow = Math.ceil(mask.tokens / blockSize);
  const perHead = mask.keyMask?.perHead ?? false;
  lists.forEach((headLists, h) => {
    const tileHead = perHead ? h : 0;
    headLists.forEach((keyBlocks, q) => {
      for (const k of keyBlocks) {
        const key = (tileHead * keyBlocksPerRow + q) * keyBlocksPerRow + k;
        let tile = tiles.get(key);
        if (!tile) {
          tile = tilePairs(q, k, blockSize, mask, tileHead);
          tiles.set(key, tile);
        }
        executed += tile.executed;
        useful += tile.useful;
      }
    });
  });
  return { executed, useful };
}
