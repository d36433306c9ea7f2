import type { TransformerConfig } from '../../models/config';
import type { TransformerWeights } from '../../models/modelWeights';
import { elementDropout } from '../dropoutSites';
import { layerSteps, tokensAfterLayer, type CpuLayerRun } from '../layerSteps';
import type { ExecutionPlan, KeySelection } from '../plan';
import * as cpu from './kernels';

export interface CpuForwardResult {
  /** [rows, vocab] as the plan's logitsRows asks. */
  logits: Float32Array;
  layerPositions: Int32Array[];
  /** Attention probabilities of every layer: [heads, tokens, tokens]. */
  probs: Float32Array[];
  /** What the estimator twins chose, by layer (the GPU's choice is in ForwardResult.plan). */
  selections: ReadonlyMap<number, KeySelection>;
  /**
   * With `captureQkv`: each layer's c_attn output [tokens, 3C] (q | k | v, head h at columns h·headDim of each part),
   * what an estimator reads; absent for a layer whose attention sublayer a dropout sample skipped. Empty otherwise.
   */
  qkv: ReadonlyMap<number, Float32Array>;
}

export interface CpuForwardOptions {
  /** Keep every layer's qkv in the result (the headless selections CLI reports the Q and K estimators read). */
  captureQkv?: boolean;
}

/**
 * The whole forward pass on the CPU, composed of the kernels' twins and driven by the same ExecutionPlan as the GPU
 * engine: the reference the engine is tested against with techniques switched on. Rows are laid out as the engine
 * lays them out: image tokens (patches, then CLS), then text.
 */
export function cpuForward(
  config: TransformerConfig,
  weights: TransformerWeights,
  plan: ExecutionPlan,
  ids: readonly number[],
  sample = 0,
  pixels?: Float32Array,
  options: CpuForwardOptions = {},
): CpuForwardResult {
  const { n_embd: channels, vocab_size: vocab, layer_norm_epsilon: epsilon } = config;
  const embeddingDropout = elementDropout(plan.dropout, 'embedding', 0, sample);
  const x = new Float32Array(plan.inputTokens * channels);
  if (weights.patches && config.image) {
    const { patches } = weights;
    const geometry = { channels, patch: config.image.patch, grid: config.image.grid, imageChannels: config.image.channels };
    if (!pixels) throw new Error('this model needs an image');
    x.set(cpu.patchEmbed(pixels, patches.weight, patches.bias, patches.cls, patches.positions, geometry, embeddingDropout));
  }
  if (weights.tokens && ids.length > 0) {
    x.set(cpu.embed(ids, weights.tokens.wte, weights.tokens.wpe, channels, embeddingDropout, config.imageTokens), config.imageTokens * channels);
  }
  const snapshots: { fromLayer: number; positions: Int32Array }[] = [{ fromLayer: 0, positions: Int32Array.from({ length: plan.inputTokens }, (_, i) => i) }];
  const empty = new Float32Array(0);
  const estimatorStates = new Map<string, Map<string, unknown>>();
  const run: CpuLayerRun = {
    weights: weights.layers[0]!,
    x,
    normed: empty,
    qkv: empty,
    attended: empty,
    hidden: empty,
    positions: snapshots[0]!.positions,
    probs: new Map(),
    selections: new Map(),
    estimatorState: (technique) => {
      let state = estimatorStates.get(technique);
      if (!state) estimatorStates.set(technique, (state = new Map()));
      return state;
    },
    onPositions: (fromLayer, positions) => snapshots.push({ fromLayer, positions }),
  };
  const qkv = new Map<number, Float32Array>();
  for (const layer of plan.layers) {
    run.weights = weights.layers[layer.index]!;
    for (const step of layerSteps(plan, layer, sample)) {
      step.cpu(run);
      if (options.captureQkv && step.name === 'attn.c_attn') qkv.set(layer.index, run.qkv);
    }
  }
  const tokens = tokensAfterLayer(plan, plan.layers[plan.layers.length - 1]!);
  const rows = plan.logitsRows === 'all' ? tokens : 1;
  const final = cpu.layerNorm(run.x, weights.lnFWeight, weights.lnFBias, rows, channels, tokens - rows, epsilon);
  const logits = cpu.lmHead(final, weights.headWeight, rows, vocab, channels, weights.headBias ?? undefined);
  return {
    logits,
    layerPositions: plan.layers.map((layer) => snapshots.filter((s) => s.fromLayer <= layer.index).at(-1)!.positions),
    // A layer whose attention a sample dropped computed nothing: all zeros, as the engine's cleared capture reads.
    probs: plan.layers.map((layer) => run.probs.get(layer.index) ?? new Float32Array(config.n_head * layer.tokens ** 2)),
    selections: run.selections,
    qkv,
  };
}
