import { bidirectionalPrefix, type TransformerConfig } from '../models/config';
import {
  allHeads, ATTENTION_BLOCK, type BlockEstimator, denseKeyBlocks, SITE_MASK_KINDS, type DropoutPlan, type DropoutSiteName, type DropoutSiteRule,
  type ExecutionPlan, type KeyBlockLists, type LayerPlan, type ReductionPoint, type ReductionStep, tokenMask, type TokenWindow,
  visibleTiles,
} from '../engine/plan';
import { techniqueById } from './registry';
import type { ActiveTechnique, LayerContext, Technique } from './types';

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
 * decides composition: key-block and head restrictions apply in sequence, a layer takes at most one token window
 * (its key blocks then drop every tile the window empties), reduction steps apply by layer (two may not share a
 * point), and each dropout site takes the highest rate any technique asks for.
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
  const planned = plannedReductions(config, inputTokens, protectedTail, enabled);
  const captureLayers = new Set([...(options.captureLayers ?? []), ...planned.map(({ reduction }) => reduction.input.layer)]);
  const textTokens = inputTokens - config.imageTokens;
  const layers: LayerPlan[] = [];
  const reductions: ReductionStep[] = [];
  let tokens = inputTokens;
  // Reductions never remove text (the protected tail of a VLM), so the image prefix is what they shrank.
  const reduce = (index: number, point: ReductionPoint) => {
    for (const { technique, reduction } of planned.filter((p) => p.reduction.layer === index && p.reduction.point === point)) {
      const keep = reduction.keep(tokens);
      if (keep >= tokens) continue;
      if (keep < protectedTail) throw new PlanError(`${technique} would keep ${keep} tokens, fewer than the ${protectedTail} it must protect`);
      const scored = layers[reduction.input.layer];
      if (!scored) throw new PlanError(`${technique} at layer ${index} scores from layer ${reduction.input.layer}, which has not run yet`);
      // A score is per token of the scored layer: another reduction in between would have renumbered the rows.
      if (scored.tokens !== tokens) {
        throw new PlanError(`${technique} at layer ${index} scores the ${scored.tokens} tokens of layer ${scored.index}, but ${tokens} reach it`);
      }
      reductions.push({
        technique,
        layer: index,
        point,
        input: reduction.input,
        kind: 'select',
        tokensBefore: tokens,
        keep,
        bidirectionalPrefix: scored.bidirectionalPrefix,
        protectedTail,
        scorer: reduction.scorer(tokens, config, protectedTail, scored.bidirectionalPrefix),
      });
      tokens = keep;
    }
  };
  for (let index = 0; index < config.n_layer; index++) {
    reduce(index, 'input');
    const prefix = bidirectionalPrefix(config, tokens, textTokens);
    const context = { config, layer: index, tokens, blockSize: ATTENTION_BLOCK, bidirectionalPrefix: prefix };
    let keyBlocks: KeyBlockLists = denseKeyBlocks(tokens, config.n_head, prefix);
    let heads: readonly number[] = allHeads(config);
    let tokenWindow: { window: TokenWindow; technique: string } | null = null;
    for (const { technique, params } of enabled) {
      if (technique.restrictKeyBlocks) keyBlocks = technique.restrictKeyBlocks(keyBlocks, context, params);
      if (technique.restrictHeads) heads = technique.restrictHeads(heads, context, params);
      const window = technique.restrictTokens?.(context, params) ?? null;
      if (!window) continue;
      // Sinks ∪ window of one A-shape intersected with another's is not an A-shape in general, so it has no TokenWindow.
      if (tokenWindow) throw new PlanError(`${tokenWindow.technique} and ${technique.id} both mask layer ${index} to a token window; switch one off`);
      tokenWindow = { window, technique: technique.id };
    }
    const layerMask = tokenMask(config, { tokens, bidirectionalPrefix: prefix, tokenWindow: tokenWindow?.window ?? null });
    // A tile the token window leaves no pair in is never read, so time and FLOPs fall with the window.
    const planned = withoutMaskedHeads(withDiagonal(layerMask.tokenWindow ? visibleTiles(keyBlocks, layerMask) : keyBlocks), heads);
    layers.push({
      index,
      tokens,
      bidirectionalPrefix: prefix,
      tokenWindow: layerMask.tokenWindow,
      heads,
      // A tile the token window leaves no pair in is never read, so time and FLOPs fall with the window.
      keyBlocks: planned,
      captureAttention: false,
      estimator: layerEstimator(enabled, context, planned),
      selection: null,
    });
    reduce(index, 'after-attention');
  }
  for (const layer of layers) layer.captureAttention = captureLayers.has(layer.index);

  return {
    config,
    inputTokens,
    blockSize: ATTENTION_BLOCK,
    layers,
    reductions,
    dropout: mergeDropout(enabled),
    logitsRows: options.logitsRows ?? 'last',
    techniques: enabled.map(({ technique }) => technique.id),
  };
}

/**
 * Tokens at the end of the input that token reduction must keep: the row the output is read from (the last text
 * token, a ViT's CLS, which the engine keeps last) and, for a VLM, the whole instruction: visual-token pruning
 * (FastV and its successors) removes image tokens only.
 */
export function protectedTokens(config: TransformerConfig, inputTokens: number): number {
  return config.attention === 'prefix-lm' ? inputTokens - config.imageTokens : 1;
}

type Enabled = { technique: Technique; params: ActiveTechnique['params'] }[];

const POINT_ORDER: Record<ReductionPoint, number> = { input: 0, 'after-attention': 1 };

/** Every technique's reductions in execution order; two at the same point of a layer would race for the same rows. */
function plannedReductions(config: TransformerConfig, inputTokens: number, protectedTail: number, enabled: Enabled) {
  const planned = enabled
    .flatMap(({ technique, params }) =>
      (technique.planReductions?.({ config, inputTokens, protectedTail }, params) ?? []).map((reduction) => ({ technique: technique.id, reduction })),
    )
    .sort((a, b) => a.reduction.layer - b.reduction.layer || POINT_ORDER[a.reduction.point] - POINT_ORDER[b.reduction.point]);
  planned.forEach((p, i) => {
    const previous = planned[i - 1];
    if (previous && previous.reduction.layer === p.reduction.layer && previous.reduction.point === p.reduction.point) {
      const where = p.reduction.point === 'input' ? `at the input of layer ${p.reduction.layer}` : `after the attention of layer ${p.reduction.layer}`;
      throw new PlanError(`${previous.technique} and ${p.technique} both reduce tokens ${where}; move one of them to another layer`);
    }
    if (p.reduction.input.layer > p.reduction.layer) {
      throw new PlanError(`${p.technique} at layer ${p.reduction.layer} cannot score from the later layer ${p.reduction.input.layer}`);
    }
  });
  return planned;
}

/**
 * The one technique that decides this layer's tiles on the GPU, if any. It chooses within `planned`, so a CPU-planned
 * restriction (a sliding window, masked heads) still holds; two estimators on one layer would each overwrite the
 * other's choice.
 */
function layerEstimator(enabled: Enabled, context: LayerContext, planned: KeyBlockLists): BlockEstimator | null {
  let chosen: BlockEstimator | null = null;
  for (const { technique, params } of enabled) {
    const estimator = technique.estimateKeyBlocks?.({ ...context, planned }, params) ?? null;
    if (!estimator) continue;
    if (chosen) throw new PlanError(`${chosen.technique} and ${technique.id} both choose the key blocks of layer ${context.layer} on the GPU; switch one off`);
    chosen = estimator;
  }
  return chosen;
}

/** Every query block keeps its diagonal block: without it a row can be left with no key and an undefined softmax. */
export function withDiagonal(lists: KeyBlockLists): KeyBlockLists {
  return lists.map((head) => head.map((blocks, q) => (blocks.includes(q) ? blocks : [...blocks, q].sort((a, b) => a - b))));
}

/** A masked head reads no tile: its lists are empty, so nothing counts it and no kernel walks it. */
function withoutMaskedHeads(lists: KeyBlockLists, heads: readonly number[]): KeyBlockLists {
  return lists.length === heads.length ? lists : lists.map((head, h) => (heads.includes(h) ? head : head.map(() => [])));
}

/** One rule per site: the highest rate any technique asks for; two mask kinds on one site cannot both hold. */
function mergeDropout(enabled: Enabled): DropoutPlan | null {
  const plans = enabled.flatMap(({ technique, params }) => (technique.planDropout ? [{ id: technique.id, plan: technique.planDropout(params) }] : []));
  const [first] = plans;
  if (!first) return null;
  const sites = new Map<DropoutSiteName, DropoutSiteRule & { technique: string }>();
  for (const { id, plan } of plans) {
    for (const rule of plan.sites) {
      if (rule.rate <= 0) continue;
      if (!SITE_MASK_KINDS[rule.site].includes(rule.kind)) throw new PlanError(`${id} asks for a ${rule.kind} mask at ${rule.site}, which takes ${SITE_MASK_KINDS[rule.site].join(' or ')} masks`);
      const held = sites.get(rule.site);
      if (held && held.kind !== rule.kind) {
        throw new PlanError(`${held.technique} and ${id} both drop at ${rule.site}, one by ${held.kind} and one by ${rule.kind}: switch one of them off`);
      }
      if (!held || rule.rate > held.rate) sites.set(rule.site, { ...rule, technique: id });
    }
  }
  return {
    seed: first.plan.seed,
    samples: Math.max(...plans.map(({ plan }) => plan.samples)),
    sites: [...sites.values()].map(({ site, kind, rate }) => ({ site, kind, rate })),
  };
}
