import type { TransformerConfig } from '../../models/config';
import type { ScorerKernel } from '../../engine/plan';
import type { ParamValues, PlannedReduction, ReductionContext, Technique } from '../types';
import scoreShader from './fastvScore.wgsl?raw';

export type FastVQueries = 'last' | 'all';

/**
 * Tokens FastV keeps out of `tokensBefore`: the protected tail (the query whose next token we predict; in a VLM the
 * whole instruction) always survives, and of the other, prunable tokens (a VLM's image tokens) a fraction `ratio`
 * is dropped, rounded as the HF demo rounds (`round(V·(1−R))`, ../shared/specs/token-pruning-and-dropout.md §1.1).
 */
export function fastvKeepCount(tokensBefore: number, ratio: number, protectedTail = 1): number {
  const prunable = tokensBefore - protectedTail;
  return protectedTail + Math.round(prunable * (1 - ratio));
}

/** CPU twin of fastvScore.wgsl. */
export function fastvScores(probs: Float32Array, heads: number, tokens: number, queries: FastVQueries, protectedTail = 1): Float32Array {
  const scores = new Float32Array(tokens).fill(PROTECTED_SCORE);
  for (let j = 0; j < tokens - protectedTail; j++) {
    let total = 0;
    for (let h = 0; h < heads; h++) {
      const head = h * tokens * tokens;
      if (queries === 'all') for (let i = j; i < tokens; i++) total += probs[head + i * tokens + j]!;
      else total += probs[head + (tokens - 1) * tokens + j]!;
    }
    scores[j] = (queries === 'all' ? total / tokens : total) / heads;
  }
  return scores;
}

/** Matches PROTECTED in fastvScore.wgsl: above any mean of probabilities, so the last token always ranks first. */
const PROTECTED_SCORE = 3.0e38;

export function fastvScorer(tokensBefore: number, config: TransformerConfig, queries: FastVQueries, protectedTail = 1): ScorerKernel {
  const heads = config.n_head;
  // One add per attention weight read for each scored (unprotected) token j: the last query's row, or every query i ≥ j.
  const scored = tokensBefore - protectedTail;
  const reads = queries === 'last' ? heads * scored : heads * (scored * tokensBefore - (scored * (scored - 1)) / 2);
  return {
    source: scoreShader,
    constants: { ALL_QUERIES: queries === 'all' ? 1 : 0, PROTECTED_TAIL: protectedTail },
    macs: reads,
    reference: (probs, heads, tokens) => fastvScores(probs, heads, tokens, queries, protectedTail),
  };
}

function planFastV(context: ReductionContext, params: ParamValues): PlannedReduction[] {
  const layer = Number(params['layer']);
  const ratio = Number(params['ratio']);
  const queries = params['queries'] === 'all' ? 'all' : 'last';
  const layers = context.config.n_layer;
  if (layer >= layers) {
    throw new Error(`FastV prunes at the input of layer K=${layer}, but this model has ${layers} layers (0–${layers - 1}): choose K from 1 to ${layers - 1}.`);
  }
  if (ratio <= 0) return [];
  return [
    {
      layer,
      point: 'input',
      input: { kind: 'attention-probs', layer: layer - 1 },
      keep: (tokensBefore) => fastvKeepCount(tokensBefore, ratio, context.protectedTail),
      scorer: (tokensBefore, config, protectedTail) => fastvScorer(tokensBefore, config, queries, protectedTail),
    },
  ];
}

export const fastv: Technique = {
  id: 'fastv',
  label: 'FastV token pruning',
  family: 'token-pruning',
  summary:
    'After layer K−1, rank context tokens by the attention they receive and drop the lowest fraction R; layers K onwards run on the survivors only.',
  paper: {
    title: 'An Image is Worth 1/2 Tokens After Layer 2: Plug-and-Play Inference Acceleration for Large Vision-Language Models',
    authors: 'Chen et al.',
    venue: 'ECCV 2024',
    url: 'https://arxiv.org/abs/2403.06764',
  },
  spec: '../shared/specs/token-pruning-and-dropout.md §1.1',
  params: [
    {
      key: 'layer', label: 'Prune at layer K', kind: 'int', min: 1, max: 47, step: 1, default: 1, modelIndex: 'layer',
      help: 'Tokens are removed at the input of layer K, scored by layer K−1 (the paper uses K=2 of LLaVA\'s 32 layers; our models have 2–4).',
    },
    { key: 'ratio', label: 'Drop ratio R', kind: 'float', min: 0, max: 0.95, step: 0.05, default: 0.5, help: 'Fraction of prunable tokens removed: the last token always stays, and so does a VLM\'s whole question (only image tokens are pruned).' },
    {
      key: 'queries',
      label: 'Scored by',
      kind: 'choice',
      options: [
        { value: 'last', label: 'last query (FastV code)' },
        { value: 'all', label: 'all queries (FastV paper)' },
      ],
      default: 'last',
      help: 'Whose attention ranks the tokens: the authors\' code uses only the last query row; the paper averages over all queries.',
    },
  ],
  planReductions: planFastV,
};
