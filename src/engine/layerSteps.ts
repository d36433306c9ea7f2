/**
 * The one description of a transformer layer. `layerSteps` turns a layer of an ExecutionPlan into the ordered list of
 * what runs there — token reductions, LayerNorms, projections, attention — and each step carries its GPU dispatch,
 * its CPU twin and its cost. The engine, the CPU forward and the FLOP counter all walk this list, so a step a
 * technique adds is executed, checked and counted from one place and the three can never drift apart.
 */
import type { Activation, TransformerConfig } from '../models/config';
import type { LayerWeights } from '../models/modelWeights';
import { countPairs, type PairCount } from '../flops/pairs';
import * as cpu from './cpu/kernels';
import { elementDropout, sublayerDropped, type ElementDropout } from './dropoutSites';
import type { KernelRecorder } from './kernels';
import { reductionsAt, tokenMask, type BlockEstimator, type ExecutionPlan, type KeyBlockLists, type KeySelection, type LayerPlan, type ReductionStep } from './plan';
import type { Frame } from './gpuContext';

/** Multiply-accumulates by the matmul they belong to (attention counted on executed pairs). */
export interface MatmulMacs {
  /** c_attn: n·d·3d. */
  qkv: number;
  /** QKᵀ: executed pairs · dh, summed over heads. */
  attnScores: number;
  /** P·V: executed pairs · dh, summed over heads. */
  attnValues: number;
  /** attention c_proj: n·d·d. */
  attnProj: number;
  /** mlp c_fc: n·d·m (m = n_inner, 4d in GPT-2). */
  mlpUp: number;
  /** mlp c_proj: n·m·d. */
  mlpDown: number;
  /** Technique overhead run in this layer (scorers, estimators): float multiply-adds. */
  overhead: number;
  /** Technique overhead in low-bit integer multiply-adds (SALE's int4 estimate), counted apart (spec §0). */
  overheadInt: number;
}

/** Elementwise work under DeepSpeed's rules (not multiplied by 2: one element = one FLOP). */
export interface NonMatmulParts {
  /** 5·numel per LayerNorm (affine). */
  layerNorm: number;
  /** numel per bias add. */
  bias: number;
  /** numel per residual add (and the token + position embedding add). */
  residual: number;
  /** numel of the executed score pairs. */
  softmax: number;
  /** numel of the MLP hidden activations. */
  gelu: number;
  /** Elements masked by element-dropout sites. */
  dropout: number;
  /** Token reduction's selection/compaction: tokensBefore per step. */
  compaction: number;
}

export interface StepCost {
  macs?: Partial<MatmulMacs>;
  nonMatmul?: Partial<NonMatmulParts>;
  /** Attention steps: executed and useful (query, key) pairs, summed over the heads that run. */
  pairs?: PairCount;
  /** Technique overhead: which technique spent the step's overhead MACs. */
  technique?: string;
}

/** The tensors of one layer on the GPU. Steps read and write them by name; `x` is the residual stream. */
export interface GpuLayerRun {
  kernels: KernelRecorder;
  frame: Frame;
  weights: Record<keyof LayerWeights, GPUBuffer>;
  x: GPUBuffer;
  /** Where a residual step writes before it becomes `x`. */
  spare: GPUBuffer;
  normed: GPUBuffer;
  qkv: GPUBuffer;
  attended: GPUBuffer;
  hidden: GPUBuffer;
  /** Original input position of each row. */
  positions: GPUBuffer;
  /** Captured attention probabilities by layer. */
  probs: ReadonlyMap<number, GPUBuffer>;
  /** Key-block lists of this layer in the attention kernel's layout (see LayerKeyBuffers). */
  keyBlocks: LayerKeyBuffers;
  /** An estimator's 'forward'-scoped scratch, by technique and name, created on first use. */
  forwardScratch(technique: string, name: string, bytes: number): GPUBuffer;
  /** For a layer with masked heads: an attention output the engine cleared, whose masked columns stay 0. */
  clearedAttended: GPUBuffer | undefined;
  /** Called when a reduction leaves survivors, with the first layer whose attention runs on them. */
  onPositions(firstLayer: number, tokens: number, positions: GPUBuffer): void;
}

/** The packed lists of one layer: what was planned, and what attention reads. */
export interface LayerKeyBuffers {
  maxKeyBlocks: number;
  /** The plan's lists; with an estimator, the tiles it may choose among. */
  planned: { counts: GPUBuffer; indices: GPUBuffer };
  /** What attention reads: the planned lists, or the buffers an estimator writes its choice to. */
  counts: GPUBuffer;
  indices: GPUBuffer;
  /** An estimator's KeyTokenMask words, cleared before the pass. */
  keyMask: GPUBuffer | undefined;
  /** Pairs of every tile attention reads, from the packed lists; null where an estimator decides them on the GPU. */
  executedPairs: number | null;
}

/** The same tensors on the CPU. */
export interface CpuLayerRun {
  weights: LayerWeights;
  x: Float32Array;
  normed: Float32Array;
  qkv: Float32Array;
  attended: Float32Array;
  hidden: Float32Array;
  positions: Int32Array;
  /** Attention probabilities of every layer run so far, [heads, n, n]. */
  probs: Map<number, Float32Array>;
  /** What each estimated layer's estimator chose, by layer. */
  selections: Map<number, KeySelection>;
  /** State each technique's estimator twins share across the layers of one forward pass (BlockEstimator.reference). */
  estimatorState(technique: string): Map<string, unknown>;
  onPositions(firstLayer: number, positions: Int32Array): void;
}

export interface LayerStep {
  /** As Hugging Face names the module (ln_1, attn.c_attn, …), or the technique for its steps. */
  name: string;
  /** Computed on demand: the engine runs steps without counting them. */
  cost(): StepCost;
  gpu(run: GpuLayerRun): void;
  cpu(run: CpuLayerRun): void;
}

/** Tokens leaving a layer: its attention's tokens minus what an after-attention reduction removed. */
export function tokensAfterLayer(plan: ExecutionPlan, layer: LayerPlan): number {
  return reductionsAt(plan, layer.index, 'after-attention').at(-1)?.keep ?? layer.tokens;
}

/** Everything layer `layer` runs in Monte-Carlo sample `sample`, in order. */
export function layerSteps(plan: ExecutionPlan, layer: LayerPlan, sample: number): LayerStep[] {
  const { config, dropout } = plan;
  const l = layer.index;
  const steps: LayerStep[] = reductionsAt(plan, l, 'input').map((step) => reductionStep(step, config));
  const tokens = layer.tokens;
  if (!sublayerDropped(dropout, 'attention-output', l, sample)) {
    steps.push(
      layerNormStep('ln_1', 'ln1Weight', 'ln1Bias', tokens, config),
      projectionStep({ name: 'attn.c_attn', bucket: 'qkv', from: 'normed', to: 'qkv', weight: 'attnQkvWeight', bias: 'attnQkvBias', m: tokens, n: 3 * config.n_embd, k: config.n_embd }),
      ...(layer.estimator ? [estimateStep(layer, layer.estimator, config)] : []),
      attentionStep(layer, config, plan.blockSize, elementDropout(dropout, 'attention-probs', l, sample)),
      projectionStep({
        name: 'attn.c_proj', bucket: 'attnProj', from: 'attended', to: 'residual', weight: 'attnProjWeight', bias: 'attnProjBias',
        m: tokens, n: config.n_embd, k: config.n_embd, dropout: elementDropout(dropout, 'attention-output', l, sample),
      }),
    );
  }
  steps.push(...reductionsAt(plan, l, 'after-attention').map((step) => reductionStep(step, config)));
  const mlpTokens = tokensAfterLayer(plan, layer);
  if (!sublayerDropped(dropout, 'mlp-output', l, sample)) {
    steps.push(
      layerNormStep('ln_2', 'ln2Weight', 'ln2Bias', mlpTokens, config),
      projectionStep({
        name: 'mlp.c_fc', bucket: 'mlpUp', from: 'normed', to: 'hidden', weight: 'mlpFcWeight', bias: 'mlpFcBias',
        m: mlpTokens, n: config.n_inner, k: config.n_embd, activation: config.activation,
      }),
      projectionStep({
        name: 'mlp.c_proj', bucket: 'mlpDown', from: 'hidden', to: 'residual', weight: 'mlpProjWeight', bias: 'mlpProjBias',
        m: mlpTokens, n: config.n_embd, k: config.n_inner, dropout: elementDropout(dropout, 'mlp-output', l, sample),
      }),
    );
  }
  return steps;
}

function layerNormStep(name: string, gamma: keyof LayerWeights, beta: keyof LayerWeights, rows: number, config: TransformerConfig): LayerStep {
  const { n_embd: channels, layer_norm_epsilon: epsilon } = config;
  return {
    name,
    cost: () => ({ nonMatmul: { layerNorm: 5 * rows * channels } }),
    gpu: (run) => run.kernels.layerNorm({ x: run.x, gamma: run.weights[gamma], beta: run.weights[beta], out: run.normed, rows, channels, rowOffset: 0, epsilon }),
    cpu: (run) => {
      run.normed = cpu.layerNorm(run.x, run.weights[gamma], run.weights[beta], rows, channels, 0, epsilon);
    },
  };
}

interface Projection {
  name: string;
  bucket: 'qkv' | 'attnProj' | 'mlpUp' | 'mlpDown';
  from: 'normed' | 'attended' | 'hidden';
  /** 'residual' adds the result to the residual stream x (after the branch's dropout). */
  to: 'qkv' | 'hidden' | 'residual';
  weight: keyof LayerWeights;
  bias: keyof LayerWeights;
  m: number;
  n: number;
  k: number;
  activation?: Activation;
  dropout?: ElementDropout | undefined;
}

/** out = [x +] [dropout(] [activation(] input·W + b [)] [)]: a Conv1D projection, optionally closing a residual branch. */
function projectionStep(p: Projection): LayerStep {
  const elements = p.m * p.n;
  const residual = p.to === 'residual';
  return {
    name: p.name,
    cost: () => ({
      macs: { [p.bucket]: p.m * p.n * p.k },
      nonMatmul: { bias: elements, residual: residual ? elements : 0, gelu: p.activation ? elements : 0, dropout: p.dropout ? elements : 0 },
    }),
    gpu: (run) => {
      const { m, n, k, activation, dropout } = p;
      const out = residual ? run.spare : run[p.to as 'qkv' | 'hidden'];
      run.kernels.matmul({ a: run[p.from], w: run.weights[p.weight], bias: run.weights[p.bias], out, m, n, k, activation, residual: residual ? run.x : undefined, dropout });
      if (residual) [run.x, run.spare] = [run.spare, run.x];
    },
    cpu: (run) => {
      const options = { activation: p.activation, residual: residual ? run.x : undefined, dropout: p.dropout };
      const out = cpu.matmul(run[p.from], run.weights[p.weight], run.weights[p.bias], p.m, p.n, p.k, options);
      if (residual) run.x = out;
      else run[p.to as 'qkv' | 'hidden'] = out;
    },
  };
}

/**
 * A technique's estimation kernels: from the layer's qkv they write the key-block lists (and key mask) attention
 * reads. Its cost is the method's formula; what it chose is counted by the attention step, from the read-back lists.
 */
function estimateStep(layer: LayerPlan, estimator: BlockEstimator, config: TransformerConfig): LayerStep {
  const { n_head: heads, n_embd: channels } = config;
  return {
    name: estimator.technique,
    cost: () => ({ macs: { overhead: estimator.cost.macs, overheadInt: estimator.cost.intMacs }, technique: estimator.technique }),
    gpu: (run) => {
      const keys = run.keyBlocks;
      const named = (binding: (typeof estimator.passes)[number]['bindings'][number]): GPUBuffer => {
        if (typeof binding === 'object') {
          if ('data' in binding) {
            const data = estimator.data[binding.data];
            if (!data) throw new Error(`${estimator.technique}: no data named "${binding.data}"`);
            return run.frame.storageWith(data, `${estimator.technique} ${binding.data}`);
          }
          const scratch = estimator.scratch[binding.scratch];
          if (!scratch) throw new Error(`${estimator.technique}: no scratch named "${binding.scratch}"`);
          return scratch.scope === 'forward'
            ? run.forwardScratch(estimator.technique, binding.scratch, scratch.bytes)
            : run.frame.storage(scratch.bytes, `${estimator.technique} ${binding.scratch}`);
        }
        switch (binding) {
          case 'qkv': return run.qkv;
          case 'allowedCounts': return keys.planned.counts;
          case 'allowedIndices': return keys.planned.indices;
          case 'counts': return keys.counts;
          case 'indices': return keys.indices;
          case 'shape': return run.kernels.estimateShape({ tokens: layer.tokens, heads, headDim: channels / heads, maxKeyBlocks: keys.maxKeyBlocks, bidirectionalPrefix: layer.bidirectionalPrefix, firstTokenRow: tokenMask(config, layer).firstTokenRow, layer: layer.index });
          case 'keyMask':
            if (!keys.keyMask) throw new Error(`${estimator.technique} binds a key mask but declares keyMask: 'none'`);
            return keys.keyMask;
        }
      };
      // Data and per-layer scratch are bound once per pass that names them: a name means one buffer for the layer.
      const buffers = new Map<string, GPUBuffer>();
      const bind = (binding: (typeof estimator.passes)[number]['bindings'][number]) => {
        const key = JSON.stringify(binding);
        let buffer = buffers.get(key);
        if (!buffer) {
          buffer = named(binding);
          buffers.set(key, buffer);
        }
        return buffer;
      };
      run.kernels.estimate({
        technique: estimator.technique,
        macs: estimator.cost.macs + estimator.cost.intMacs,
        passes: estimator.passes.map((pass) => ({ ...pass, buffers: pass.bindings.map(bind) })),
      });
    },
    cpu: (run) => {
      run.selections.set(layer.index, estimator.reference(run.qkv, layer.keyBlocks, run.estimatorState(estimator.technique)));
    },
  };
}

/** The lists a layer's attention reads: its selection once the estimator has chosen, else the planned lists. */
export function attendedKeyBlocks(layer: LayerPlan): KeyBlockLists {
  return layer.selection?.keyBlocks ?? layer.keyBlocks;
}

function attentionStep(layer: LayerPlan, config: TransformerConfig, blockSize: number, dropout: ElementDropout | undefined): LayerStep {
  const { heads } = layer;
  const headDim = config.n_embd / config.n_head;
  const mask = tokenMask(config, layer);
  return {
    name: 'attn',
    // Before a run an estimated layer counts the planned lists: the most its estimator may choose.
    cost: () => {
      const pairs = countPairs(attendedKeyBlocks(layer), mask, blockSize);
      return {
        macs: { attnScores: pairs.executed * headDim, attnValues: pairs.executed * headDim },
        nonMatmul: { softmax: pairs.executed, dropout: dropout ? pairs.executed : 0 },
        pairs,
      };
    },
    gpu: (run) => {
      run.attended = run.clearedAttended ?? run.attended;
      run.kernels.attention({
        qkv: run.qkv, blockCounts: run.keyBlocks.counts, blockIndices: run.keyBlocks.indices, out: run.attended,
        ...mask, keyMaskWords: run.keyBlocks.keyMask, keyMaskPerHead: layer.estimator?.keyMask === 'per-head',
        heads: config.n_head, headDim, maxKeyBlocks: run.keyBlocks.maxKeyBlocks, runHeads: heads,
        probs: run.probs.get(layer.index), dropout, executedPairs: run.keyBlocks.executedPairs,
      });
    },
    cpu: (run) => {
      const selection = layer.estimator ? run.selections.get(layer.index) : undefined;
      if (layer.estimator && !selection) throw new Error(`layer ${layer.index}: attention ran before ${layer.estimator.technique}'s estimate`);
      const lists = selection?.keyBlocks ?? layer.keyBlocks;
      const cpuMask = selection ? { ...mask, keyMask: selection.keyMask } : mask;
      const attended = cpu.attention(run.qkv, lists, cpuMask, config.n_head, headDim, dropout);
      run.attended = attended.out;
      run.probs.set(layer.index, attended.probs);
    },
  };
}

function reductionStep(step: ReductionStep, config: TransformerConfig): LayerStep {
  const { tokensBefore: tokens, keep } = step;
  const channels = config.n_embd;
  const heads = config.n_head;
  const scoredLayer = step.input.layer;
  const firstLayer = step.point === 'input' ? step.layer : step.layer + 1;
  return {
    name: step.technique,
    cost: () => ({ macs: { overhead: step.scorer.macs }, nonMatmul: { compaction: tokens }, technique: step.technique }),
    gpu: (run) => {
      const probs = run.probs.get(scoredLayer);
      if (!probs) throw new Error(`${step.technique} at layer ${step.layer} needs the attention of layer ${scoredLayer}, which the plan does not capture`);
      const { kernels, frame } = run;
      const scores = frame.storage(tokens * 4, 'scores');
      const keepMask = frame.storage(tokens * 4, 'keep mask');
      const offsets = frame.storage(tokens * 4, 'offsets');
      kernels.scoreTokens({
        source: step.scorer.source, constants: step.scorer.constants, probs, scores, heads, tokens,
        protectedTail: step.protectedTail, bidirectionalPrefix: step.bidirectionalPrefix, macs: step.scorer.macs,
      });
      kernels.selectKeep({ scores, keepMask, tokens, keep });
      kernels.prefixSum({ keepMask, offsets, tokens });
      const survivorPositions = frame.storage(keep * 4, `positions from layer ${step.layer}`);
      kernels.gatherRows({ keepMask, offsets, x: run.x, positions: run.positions, out: run.spare, outPositions: survivorPositions, tokens, channels });
      [run.x, run.spare] = [run.spare, run.x];
      run.positions = survivorPositions;
      run.onPositions(firstLayer, keep, survivorPositions);
    },
    cpu: (run) => {
      const probs = run.probs.get(scoredLayer);
      if (!probs) throw new Error(`${step.technique} at layer ${step.layer} needs the attention of layer ${scoredLayer}`);
      const kept = cpu.gatherRows(cpu.selectKeep(step.scorer.reference(probs, heads, tokens, step.bidirectionalPrefix, step.protectedTail), keep), run.x, run.positions, channels);
      run.x = kept.rows;
      run.positions = kept.positions;
      run.onPositions(firstLayer, kept.positions);
    },
  };
}
