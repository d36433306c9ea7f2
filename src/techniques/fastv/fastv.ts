import type { TransformerConfig } from '../../models/config';
import type { ScorerKernel } from '../../engine/plan';
import type { ParamValues, PlannedReduction, ReductionContext, Technique } from '../types';
import scoreShader from './fastvScore.wgsl?raw';

export type FastVQueries = 'last' | 'all';

/**
 * Tokens FastV keeps out of `tokensBefore`: the protected tail (the query whose next token we predict; in a VLM the
 * whole instruction) always survives, and of the other V prunable tokens (a VLM's image tokens) it keeps
 * round(V·(1−R)).
 *
 * The authors count kept tokens three ways; this follows their Hugging Face / LLaVA code,
 * `topk(round(image_token_length * (1 - rate)))` (../shared/specs/token-pruning-and-dropout.md §1.1), including
 * Python's `round`, which rounds half to even: V = 5, R = 0.5 keeps 2, not 3. The paper's evaluation scripts instead
 * take an absolute count (`attention_rank`), and their lmms-eval KV-cache variant truncates, `int(576 * ratio)`.
 */
export function fastvKeepCount(tokensBefore: number, ratio: number, protectedTail = 1): number {
  const prunable = tokensBefore - protectedTail;
  return protectedTail + roundHalfToEven(prunable * (1 - ratio));
}

/**
 * Python 3's `round(x)` for x ≥ 0. Python evaluates V*(1-R) in the same IEEE doubles as JavaScript, so rounding that
 * product the same way gives the authors' count bit for bit; `Math.round` would round every .5 up.
 */
function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  // Exact in doubles (Sterbenz: x/2 ≤ ⌊x⌋ ≤ x once x ≥ 1), so a true .5 is seen as one.
  const fraction = x - floor;
  if (fraction !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * CPU twin of fastvScore.wgsl. Query i sees key j when j ≤ i or j < bidirectionalPrefix (LayerPlan's mask):
 * "last" reads A[h, n−1, j]; "all" is the paper's φ_j = (1/n) Σ_i A[h, i, j] over exactly the queries that see j
 * (every query for a key inside the prefix, i ≥ j after it). Both are averaged over heads.
 */
export function fastvScores(
  probs: Float32Array, heads: number, tokens: number, queries: FastVQueries, bidirectionalPrefix: number, protectedTail: number,
): Float32Array {
  const scores = new Float32Array(tokens).fill(PROTECTED_SCORE);
  for (let j = 0; j < tokens - protectedTail; j++) {
    let total = 0;
    for (let h = 0; h < heads; h++) {
      const head = h * tokens * tokens;
      if (queries === 'all') for (let i = firstQuerySeeing(j, bidirectionalPrefix); i < tokens; i++) total += probs[head + i * tokens + j]!;
      else total += probs[head + (tokens - 1) * tokens + j]!;
    }
    scores[j] = (queries === 'all' ? total / tokens : total) / heads;
  }
  return scores;
}

/** The first query the mask lets attend to key j: every query sees a prefix key, only later ones a causal key. */
function firstQuerySeeing(key: number, bidirectionalPrefix: number): number {
  return key < bidirectionalPrefix ? 0 : key;
}

/** Matches PROTECTED in fastvScore.wgsl: above any mean of probabilities, so the protected tail always ranks first. */
const PROTECTED_SCORE = 3.0e38;

export function fastvScorer(
  tokensBefore: number, config: TransformerConfig, queries: FastVQueries, protectedTail: number, bidirectionalPrefix: number,
): ScorerKernel {
  return {
    source: scoreShader,
    constants: { ALL_QUERIES: queries === 'all' ? 1 : 0 },
    macs: config.n_head * fastvReadsPerHead(tokensBefore, queries, protectedTail, bidirectionalPrefix),
    reference: (probs, heads, tokens, prefix, tail) => fastvScores(probs, heads, tokens, queries, prefix, tail),
  };
}

/** One add per attention weight the kernel reads, per head: the last query's row, or every query that sees each key. */
function fastvReadsPerHead(tokens: number, queries: FastVQueries, protectedTail: number, bidirectionalPrefix: number): number {
  const scored = tokens - protectedTail;
  if (queries === 'last') return scored;
  const prefixKeys = Math.min(bidirectionalPrefix, scored);
  const causalKeys = scored - prefixKeys;
  // n reads for each prefix key; n − j for each causal key j = prefixKeys … scored − 1, an arithmetic series.
  return prefixKeys * tokens + causalKeys * tokens - (causalKeys * (prefixKeys + scored - 1)) / 2;
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
      scorer: (tokensBefore, config, protectedTail, bidirectionalPrefix) => fastvScorer(tokensBefore, config, queries, protectedTail, bidirectionalPrefix),
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
