import { bidirectionalPrefix, type TransformerConfig } from '../models/config';
import {
  ATTENTION_BLOCK, denseKeyBlocks, type DropoutPlan, type ExecutionPlan, type KeyBlockLists, type LayerPlan, type PruneStep,
  tokenMask, type TokenWindow, visibleTiles,
} from '../engine/plan';
import { techniqueById } from './registry';
import type { ActiveTechnique, Technique } from './types';

export interface PlanOptions {
  logitsRows?: 'last' | 'all';
  /** Layers whose attention a panel wants to show. */
  captureLayers?: readonly number[];
}

export class PlanError extends Error {
  override name = 'PlanError';
}

/**
 * Composes the switched-on techniques into the plan the engine executes and the FLOP counter counts. Registry order
 * decides composition: sparse-attention restrictions apply in sequence, a layer takes at most one token window (its
 * key blocks then drop every tile the window empties), prune steps apply by layer, and dropout sites take the highest
 * rate any technique asks for.
 */
export function buildPlan(config: TransformerConfig, inputTokens: number, active: readonly ActiveTechnique[], options: PlanOptions = {}): ExecutionPlan {
  if (!Number.isInteger(inputTokens) || inputTokens < 1) throw new PlanError('the input is empty');
  if (inputTokens > config.n_positions) {
    throw new PlanError(`the input has ${inputTokens} tokens but this model takes at most ${config.n_positions}`);
  }
  if (inputTokens < config.imageTokens) throw new PlanError(`this model's input starts with its ${config.imageTokens} image tokens`);
  const enabled = active.map(({ id, params }) => {
    const technique = techniqueById(id);
    if (!technique) throw new PlanError(`unknown technique "${id}"`);
    return { technique, params };
  });

  const protectedTail = protectedTokens(config, inputTokens);
  const pruning = planPruning(config, inputTokens, protectedTail, enabled);
  const captureLayers = new Set([...(options.captureLayers ?? []), ...pruning.map((p) => p.scoreFromLayer)]);
  const textTokens = inputTokens - config.imageTokens;
  const layers: LayerPlan[] = [];
  let tokens = inputTokens;
  for (let index = 0; index < config.n_layer; index++) {
    tokens = pruning.find((p) => p.beforeLayer === index)?.keep ?? tokens;
    // Pruning never removes text (the protected tail of a VLM), so the image prefix is what it shrank.
    const prefix = bidirectionalPrefix(config, tokens, textTokens);
    const context = { config, layer: index, tokens, bidirectionalPrefix: prefix, blockSize: ATTENTION_BLOCK };
    let keyBlocks: KeyBlockLists = denseKeyBlocks(tokens, config.n_head, prefix);
    let tokenWindow: { window: TokenWindow; technique: string } | null = null;
    for (const { technique, params } of enabled) {
      if (technique.restrictKeyBlocks) keyBlocks = technique.restrictKeyBlocks(keyBlocks, context, params);
      const window = technique.restrictTokens?.(context, params) ?? null;
      if (!window) continue;
      // Sinks ∪ window of one A-shape intersected with another's is not an A-shape in general, so it has no TokenWindow.
      if (tokenWindow) throw new PlanError(`${tokenWindow.technique} and ${technique.id} both mask layer ${index} to a token window; switch one off`);
      tokenWindow = { window, technique: technique.id };
    }
    const layerMask = tokenMask(config, { tokens, bidirectionalPrefix: prefix, tokenWindow: tokenWindow?.window ?? null });
    layers.push({
      index,
      tokens,
      bidirectionalPrefix: prefix,
      tokenWindow: layerMask.tokenWindow,
      // A tile the token window leaves no pair in is never read, so time and FLOPs fall with the window.
      keyBlocks: withDiagonal(layerMask.tokenWindow ? visibleTiles(keyBlocks, layerMask) : keyBlocks),
      captureAttention: captureLayers.has(index),
    });
  }

  return {
    config,
    inputTokens,
    blockSize: ATTENTION_BLOCK,
    layers,
    pruning,
    dropout: mergeDropout(enabled),
    logitsRows: options.logitsRows ?? 'last',
    techniques: enabled.map(({ technique }) => technique.id),
  };
}

/**
 * Tokens at the end of the input that token pruning must keep: the row the output is read from (the last text
 * token, a ViT's CLS, which the engine keeps last) and, for a VLM, the whole instruction: visual-token pruning
 * (FastV and its successors) removes image tokens only.
 */
export function protectedTokens(config: TransformerConfig, inputTokens: number): number {
  return config.attention === 'prefix-lm' ? inputTokens - config.imageTokens : 1;
}

type Enabled = { technique: Technique; params: ActiveTechnique['params'] }[];

function planPruning(config: TransformerConfig, inputTokens: number, protectedTail: number, enabled: Enabled): PruneStep[] {
  const planned = enabled
    .flatMap(({ technique, params }) => {
      const prune = technique.planPrune?.({ config, inputTokens, protectedTail }, params);
      return prune ? [{ technique: technique.id, prune }] : [];
    })
    .sort((a, b) => a.prune.beforeLayer - b.prune.beforeLayer);
  const steps: PruneStep[] = [];
  let tokens = inputTokens;
  for (const { technique, prune } of planned) {
    if (steps.some((s) => s.beforeLayer === prune.beforeLayer)) {
      throw new PlanError(`two pruning techniques prune at layer ${prune.beforeLayer}; move one of them to another layer`);
    }
    const keep = prune.keep(tokens);
    if (keep >= tokens) continue;
    if (keep < protectedTail) throw new PlanError(`${technique} would keep ${keep} tokens, fewer than the ${protectedTail} it must protect`);
    steps.push({
      technique,
      beforeLayer: prune.beforeLayer,
      scoreFromLayer: prune.scoreFromLayer,
      tokensBefore: tokens,
      keep,
      scorer: prune.scorer(tokens, config, protectedTail),
    });
    tokens = keep;
  }
  return steps;
}

/** Every query block keeps its diagonal block: without it a row can be left with no key and an undefined softmax. */
export function withDiagonal(lists: KeyBlockLists): KeyBlockLists {
  return lists.map((head) => head.map((blocks, q) => (blocks.includes(q) ? blocks : [...blocks, q].sort((a, b) => a - b))));
}

function mergeDropout(enabled: Enabled): DropoutPlan | null {
  const plans = enabled.flatMap(({ technique, params }) => (technique.planDropout ? [technique.planDropout(params)] : []));
  const [first] = plans;
  if (!first) return null;
  return {
    seed: first.seed,
    samples: Math.max(...plans.map((p) => p.samples)),
    rates: {
      embedding: Math.max(...plans.map((p) => p.rates.embedding)),
      attention: Math.max(...plans.map((p) => p.rates.attention)),
      residual: Math.max(...plans.map((p) => p.rates.residual)),
    },
  };
}
