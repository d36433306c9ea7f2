import type { TransformerConfig } from '../../models/config';
import type { TransformerWeights } from '../../models/modelWeights';
import { tokenMask, type ExecutionPlan } from '../plan';
import { DropoutSite } from '../random';
import * as cpu from './kernels';

export interface CpuForwardResult {
  /** [rows, vocab] as the plan's logitsRows asks. */
  logits: Float32Array;
  layerPositions: Int32Array[];
  /** Attention probabilities of every layer: [heads, tokens, tokens]. */
  probs: Float32Array[];
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
): CpuForwardResult {
  const { n_embd: channels, n_head: heads, n_inner: inner, vocab_size: vocab, layer_norm_epsilon: epsilon, activation } = config;
  const headDim = channels / heads;
  const dropout = plan.dropout;
  const dropoutAt = (site: DropoutSite, rate: number, layer: number): cpu.CpuDropout | undefined =>
    dropout && rate > 0 ? { rate, seed: dropout.seed, sample, site, layer } : undefined;

  const embeddingDropout = dropoutAt(DropoutSite.Embedding, dropout?.rates.embedding ?? 0, 0);
  let x: Float32Array = new Float32Array(plan.inputTokens * channels);
  if (weights.patches && config.image) {
    const { patches } = weights;
    const geometry = { channels, patch: config.image.patch, grid: config.image.grid, imageChannels: config.image.channels };
    if (!pixels) throw new Error('this model needs an image');
    x.set(cpu.patchEmbed(pixels, patches.weight, patches.bias, patches.cls, patches.positions, geometry, embeddingDropout));
  }
  if (weights.tokens && ids.length > 0) {
    x.set(cpu.embed(ids, weights.tokens.wte, weights.tokens.wpe, channels, embeddingDropout, config.imageTokens), config.imageTokens * channels);
  }
  let tokens = plan.inputTokens;
  let positions: Int32Array = Int32Array.from({ length: tokens }, (_, i) => i);
  const layerPositions: Int32Array[] = [];
  const allProbs: Float32Array[] = [];
  for (const layerPlan of plan.layers) {
    const l = layerPlan.index;
    const step = plan.pruning.find((p) => p.beforeLayer === l);
    if (step) {
      const scores = step.scorer.reference(allProbs[step.scoreFromLayer]!, heads, tokens);
      const kept = cpu.gatherRows(cpu.selectKeep(scores, step.keep), x, positions, channels);
      x = kept.rows;
      positions = kept.positions;
      tokens = step.keep;
    }
    layerPositions.push(positions);
    const w = weights.layers[l]!;
    const normed = cpu.layerNorm(x, w.ln1Weight, w.ln1Bias, tokens, channels, 0, epsilon);
    const qkv = cpu.matmul(normed, w.attnQkvWeight, w.attnQkvBias, tokens, 3 * channels, channels);
    const attended = cpu.attention(
      qkv,
      layerPlan.keyBlocks,
      tokenMask(config, layerPlan),
      heads,
      headDim,
      dropoutAt(DropoutSite.Attention, dropout?.rates.attention ?? 0, l),
    );
    allProbs.push(attended.probs);
    const residualRate = dropout?.rates.residual ?? 0;
    x = cpu.matmul(attended.out, w.attnProjWeight, w.attnProjBias, tokens, channels, channels, {
      residual: x,
      dropout: dropoutAt(DropoutSite.Residual, residualRate, 2 * l),
    });
    const normed2 = cpu.layerNorm(x, w.ln2Weight, w.ln2Bias, tokens, channels, 0, epsilon);
    const hidden = cpu.matmul(normed2, w.mlpFcWeight, w.mlpFcBias, tokens, inner, channels, { activation });
    x = cpu.matmul(hidden, w.mlpProjWeight, w.mlpProjBias, tokens, channels, inner, {
      residual: x,
      dropout: dropoutAt(DropoutSite.Residual, residualRate, 2 * l + 1),
    });
  }
  const rows = plan.logitsRows === 'all' ? tokens : 1;
  const final = cpu.layerNorm(x, weights.lnFWeight, weights.lnFBias, rows, channels, tokens - rows, epsilon);
  const logits = cpu.lmHead(final, weights.headWeight, rows, vocab, channels, weights.headBias ?? undefined);
  return { logits, layerPositions, probs: allProbs };
}

