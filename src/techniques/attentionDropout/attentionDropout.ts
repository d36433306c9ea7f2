import type { DropoutPlan } from '../../engine/plan';
import type { ParamValues, Technique } from '../types';

function planAttentionDropout(params: ParamValues): DropoutPlan {
  return {
    sites: [{ site: 'attention-probs', kind: 'element', rate: Number(params['rate']) }],
    seed: Number(params['seed']),
    samples: Number(params['samples']),
  };
}

/**
 * Inverted dropout on the attention probabilities, kept on at inference (Monte-Carlo dropout): P̃ = P ⊙ z/(1−p)
 * after the softmax, never on masked logits (../shared/specs/token-pruning-and-dropout.md §2.2, §2.7). The mask
 * is a stateless hash of (seed, sample, layer, head, query, key), so a seed reproduces every sample exactly.
 */
export const attentionDropout: Technique = {
  id: 'attention-dropout',
  label: 'Attention dropout (MC)',
  family: 'dropout',
  summary:
    'Randomly zeroes attention weights (and rescales the rest) in N seeded passes; the predictions show the mean and spread across passes.',
  paper: {
    title: 'Dropout as a Bayesian Approximation: Representing Model Uncertainty in Deep Learning',
    authors: 'Gal & Ghahramani',
    venue: 'ICML 2016',
    url: 'https://arxiv.org/abs/1506.02142',
  },
  spec: '../shared/specs/token-pruning-and-dropout.md §2.2, §2.7',
  params: [
    { key: 'rate', label: 'Drop rate p', kind: 'float', min: 0, max: 0.9, step: 0.05, default: 0.1, help: 'Probability that each attention weight is zeroed.' },
    { key: 'seed', label: 'Seed', kind: 'int', min: 0, max: 2147483647, step: 1, default: 1234, help: 'Same seed, same masks: the run is reproducible.' },
    { key: 'samples', label: 'MC samples N', kind: 'int', min: 1, max: 32, step: 1, default: 8, help: 'Forward passes with different masks; predictions show the mean ± the population standard deviation (ddof = 0) over the N passes.' },
  ],
  planDropout: planAttentionDropout,
};
