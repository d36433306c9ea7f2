import type { KeyBlockLists } from '../../engine/plan';
import type { LayerContext, ParamValues, Technique } from '../types';

/**
 * StreamingLLM's prefill "A-shape" at block granularity (../shared/specs/sparse-attention.md §3.1–3.2): every query
 * block reads the sink blocks holding the first `sinkTokens` tokens, the blocks covering its last `windowTokens`
 * tokens, and always its own diagonal block (the rule that keeps every softmax row defined).
 */
export function slidingWindowBlocks(queryBlock: number, sinkTokens: number, windowTokens: number, blockSize: number): number[] {
  const sinkBlocks = Math.ceil(sinkTokens / blockSize);
  // The window of the block's first query reaches back windowTokens−1 tokens; later queries in the block reach less far.
  const firstWindowKey = Math.max(0, queryBlock * blockSize - (windowTokens - 1));
  const firstWindowBlock = Math.floor(firstWindowKey / blockSize);
  const blocks: number[] = [];
  for (let k = 0; k <= queryBlock; k++) {
    if (k < sinkBlocks || k >= firstWindowBlock) blocks.push(k);
  }
  return blocks;
}

function restrictToWindow(lists: KeyBlockLists, context: LayerContext, params: ParamValues): KeyBlockLists {
  if (context.layer < Number(params['fromLayer'])) return lists;
  const sinkTokens = Number(params['sinkTokens']);
  const windowTokens = Number(params['windowTokens']);
  return lists.map((head) =>
    head.map((blocks, queryBlock) => {
      const allowed = new Set(slidingWindowBlocks(queryBlock, sinkTokens, windowTokens, context.blockSize));
      return blocks.filter((k) => allowed.has(k));
    }),
  );
}

export const slidingWindow: Technique = {
  id: 'sliding-window',
  label: 'Sliding window + sinks',
  family: 'sparse-attention',
  summary:
    'Each query reads only the first few "sink" tokens and a recent window, block by block (StreamingLLM\'s A-shape). Skipped key blocks are never read.',
  paper: {
    title: 'Efficient Streaming Language Models with Attention Sinks',
    authors: 'Xiao et al.',
    venue: 'ICLR 2024',
    url: 'https://arxiv.org/abs/2309.17453',
  },
  spec: '../shared/specs/sparse-attention.md §3.1–3.2',
  params: [
    { key: 'sinkTokens', label: 'Sink tokens', kind: 'int', min: 0, max: 64, step: 1, default: 4, help: 'First tokens every query always reads (StreamingLLM keeps 4).' },
    { key: 'windowTokens', label: 'Window', kind: 'int', min: 1, max: 1024, step: 1, default: 64, help: 'Most recent tokens each query reads, its own included.' },
    { key: 'fromLayer', label: 'From layer', kind: 'int', min: 0, max: 47, step: 1, default: 0, modelIndex: 'layer', help: 'Layers before this one stay dense.' },
  ],
  restrictKeyBlocks: restrictToWindow,
};
