import { ATTENTION_BLOCK, tokenMask, visibleTiles, type KeyBlockLists, type TokenWindow } from '../../engine/plan';
import type { LayerContext, ParamValues, Technique } from '../types';

/** The A-shape the parameters ask for on this layer, or null on the layers before `fromLayer`. */
function windowOf(context: LayerContext, params: ParamValues): TokenWindow | null {
  if (context.layer < Number(params['fromLayer'])) return null;
  return { sinks: Number(params['sinkTokens']), window: Number(params['windowTokens']) };
}

/**
 * Token granularity: the window itself; the planner then drops every tile it leaves no pair in, and the kernel masks
 * the rest key by key.
 */
function restrictTokens(context: LayerContext, params: ParamValues): TokenWindow | null {
  return params['granularity'] === 'block' ? null : windowOf(context, params);
}

/**
 * Block granularity: every tile the token-exact A-shape leaves a pair in is read whole, under the base mask only (the
 * block-sparse approximation of the A-shape; StreamingLLM and MInference mask per token).
 */
function restrictKeyBlocks(lists: KeyBlockLists, context: LayerContext, params: ParamValues): KeyBlockLists {
  const tokenWindow = params['granularity'] === 'block' ? windowOf(context, params) : null;
  return tokenWindow ? visibleTiles(lists, tokenMask(context.config, { ...context, tokenWindow }), context.blockSize) : lists;
}

const TILE = `${ATTENTION_BLOCK}×${ATTENTION_BLOCK}`;

export const slidingWindow: Technique = {
  id: 'sliding-window',
  label: 'Sliding window + sinks',
  family: 'sparse-attention',
  summary:
    'Each query reads only the first few "sink" tokens and the tokens less than a window away from it (StreamingLLM\'s A-shape). ' +
    'Key tiles holding none of them are never read. On a ViT, CLS is token 0 and distances count in its own order: CLS, then the patches row by row.',
  paper: {
    title: 'Efficient Streaming Language Models with Attention Sinks',
    authors: 'Xiao et al.',
    venue: 'ICLR 2024',
    url: 'https://arxiv.org/abs/2309.17453',
  },
  spec: '../shared/specs/sparse-attention.md §3.1–3.2 (and MInference\'s A-shape kernel)',
  params: [
    { key: 'sinkTokens', label: 'Sink tokens', kind: 'int', min: 0, max: 64, step: 1, default: 4, help: 'The first tokens every query reads whatever the distance (StreamingLLM keeps 4; on a ViT the first is CLS).' },
    {
      key: 'windowTokens', label: 'Window', kind: 'int', min: 1, max: 1024, step: 1, default: 64,
      help: 'W: every query also reads the tokens less than W away, its own included: its last W tokens when causal, W − 1 on each side when bidirectional (a ViT, a VLM\'s image).',
    },
    { key: 'fromLayer', label: 'From layer', kind: 'int', min: 0, max: 47, step: 1, default: 0, modelIndex: 'layer', help: 'Layers before this one stay dense.' },
    {
      key: 'granularity', label: 'Granularity', kind: 'choice', default: 'token',
      options: [
        { value: 'token', label: 'token-exact' },
        { value: 'block', label: `whole ${TILE} tiles` },
      ],
      help:
        `Token-exact keeps exactly the sinks and the window, as StreamingLLM does. Whole tiles reads every ${TILE} tile holding any of them in full: ` +
        `the sinks grow to whole ${ATTENTION_BLOCK}-token tiles and the window by up to ${2 * (ATTENTION_BLOCK - 1)} tokens on each side it reaches.`,
      inOlderLinks: { value: 'block', change: 'sliding window used to read whole tiles and is now token-exact by default' },
    },
  ],
  restrictKeyBlocks,
  restrictTokens,
};
