import { ATTENTION_BLOCK, wordsPerRow, type EstimatorPass, type TokenWindow } from './plan';
import { DropoutSite } from './random';
import { engineShader, techniqueShader } from './shaders';
import type { Frame, GpuContext, PipelineConstants } from './gpuContext';
import {
  attentionParams,
  dropoutStream,
  embedParams,
  estimateShape,
  gatherParams,
  layerNormParams,
  lmHeadParams,
  matmulParams,
  patchEmbedParams,
  scanParams,
  scoreShape,
  selectParams,
} from './kernelUniforms';
import type { UniformValues } from './uniforms';
import type { Activation } from '../models/config';

const ACTIVATION_CONSTANT: Record<Activation, number> = { 'gelu-tanh': 1, 'gelu-erf': 2 };

/** A dropout site switched on for one dispatch. */
export interface DropoutArgs {
  rate: number;
  seed: number;
  sample: number;
  site: DropoutSite;
  layer: number;
}

const WORKGROUP_1D = 64;
const MAX_GROUPS_PER_DIMENSION = 65535;

/** A dispatch without dropout still fills the stream; the kernel's DROPOUT constant keeps it from being read. */
function streamValues(dropout: DropoutArgs | undefined): UniformValues<typeof dropoutStream.fields> {
  return { seed: dropout?.seed ?? 0, sample: dropout?.sample ?? 0, site: dropout?.site ?? 0, layer: dropout?.layer ?? 0 };
}

/** Workgroup grid for one thread per element, folded into 2-D when a single dimension would exceed the limit. */
export function grid1d(elements: number): [number, number] {
  const groups = Math.ceil(elements / WORKGROUP_1D);
  if (groups <= MAX_GROUPS_PER_DIMENSION) return [groups, 1];
  const rows = Math.ceil(groups / MAX_GROUPS_PER_DIMENSION);
  return [Math.ceil(groups / rows), rows];
}

/**
 * Records the engine's kernels into one compute pass. Every method is one dispatch; its arguments are the buffers it
 * reads and writes and the shape, exactly as its CPU twin in src/engine/cpu/kernels.ts takes them.
 */
export class KernelRecorder {
  readonly #context: GpuContext;
  readonly #frame: Frame;
  readonly #pass: GPUComputePassEncoder;
  #macs = 0;

  constructor(context: GpuContext, frame: Frame, pass: GPUComputePassEncoder) {
    this.#context = context;
    this.#frame = frame;
    this.#pass = pass;
  }

  /**
   * Multiply-adds of every matmul-like dispatch recorded so far, tallied from each dispatch's own shape (attention
   * from the packed lists it reads): what the GPU is asked to do, to hold against what the FLOP counter planned.
   */
  get dispatchedMacs(): number {
    return this.#macs;
  }

  /** Text rows: token plus position embedding, written from row `rowOffset` of `out` (after a VLM's image tokens). */
  embed(args: { ids: GPUBuffer; wte: GPUBuffer; wpe: GPUBuffer; out: GPUBuffer; tokens: number; channels: number; rowOffset?: number; dropout?: DropoutArgs }): void {
    const uniform = this.#frame.uniform(
      embedParams.pack({
        tokens: args.tokens, channels: args.channels, dropout_rate: args.dropout?.rate ?? 0, row_offset: args.rowOffset ?? 0,
        stream: streamValues(args.dropout),
      }),
      'embed params',
    );
    this.#dispatch('embed.wgsl', 'main', { DROPOUT: args.dropout ? 1 : 0 }, [args.ids, args.wte, args.wpe, args.out, uniform], grid1d(args.tokens * args.channels));
  }

  layerNorm(args: { x: GPUBuffer; gamma: GPUBuffer; beta: GPUBuffer; out: GPUBuffer; rows: number; channels: number; rowOffset: number; epsilon: number }): void {
    const uniform = this.#frame.uniform(
      layerNormParams.pack({ rows: args.rows, channels: args.channels, row_offset: args.rowOffset, epsilon: args.epsilon }),
      'layernorm params',
    );
    this.#dispatch('layernorm.wgsl', 'main', {}, [args.x, args.gamma, args.beta, args.out, uniform], [Math.ceil(args.rows / WORKGROUP_1D), 1]);
  }

  /** out = [residual +] [dropout(] [activation(] a·w + bias [)] [)] */
  matmul(args: {
    a: GPUBuffer; w: GPUBuffer; bias: GPUBuffer; out: GPUBuffer; m: number; n: number; k: number;
    activation?: Activation; residual?: GPUBuffer; dropout?: DropoutArgs;
  }): void {
    if (args.n % 4 !== 0) throw new Error(`matmul: N=${args.n} must be a multiple of 4`);
    if (args.dropout && !args.residual) throw new Error('matmul: dropout is only defined on the residual branch');
    const uniform = this.#frame.uniform(
      matmulParams.pack({ m: args.m, n: args.n, k: args.k, dropout_rate: args.dropout?.rate ?? 0, stream: streamValues(args.dropout) }),
      'matmul params',
    );
    const constants = {
      ACTIVATION: args.activation ? ACTIVATION_CONSTANT[args.activation] : 0,
      RESIDUAL: args.residual ? 1 : 0,
      DROPOUT: args.dropout ? 1 : 0,
    };
    // An unused residual binding still needs a buffer; the bias is never written, so it can stand in.
    const residual = args.residual ?? args.bias;
    this.#macs += args.m * args.n * args.k;
    this.#dispatch('matmul.wgsl', 'main', constants, [args.a, args.w, args.bias, residual, args.out, uniform], [
      Math.ceil(args.n / 4 / 16),
      Math.ceil(args.m / 16),
    ]);
  }

  /** out = x · wᵀ (+ bias): GPT-2's tied LM head (w = wte) or a classifier. */
  lmHead(args: { x: GPUBuffer; wte: GPUBuffer; bias?: GPUBuffer; out: GPUBuffer; m: number; vocab: number; channels: number }): void {
    const uniform = this.#frame.uniform(lmHeadParams.pack({ m: args.m, vocab: args.vocab, channels: args.channels }), 'lm head params');
    // Without a bias the binding is never read; the weights stand in.
    const bias = args.bias ?? args.wte;
    this.#macs += args.m * args.vocab * args.channels;
    this.#dispatch('lm_head.wgsl', 'main', { HAS_BIAS: args.bias ? 1 : 0 }, [args.x, args.wte, bias, args.out, uniform], [
      Math.ceil(args.vocab / 64),
      Math.ceil(args.m / 16),
    ]);
  }

  /** Image rows: every patch embedded, then a ViT's CLS token when `cls` is given, each plus its position embedding. */
  patchEmbed(args: {
    pixels: GPUBuffer; weight: GPUBuffer; bias: GPUBuffer; cls?: GPUBuffer; positions: GPUBuffer; out: GPUBuffer;
    channels: number; patch: number; grid: number; imageChannels: number; dropout?: DropoutArgs;
  }): void {
    const uniform = this.#frame.uniform(
      patchEmbedParams.pack({
        channels: args.channels, patch_size: args.patch, grid: args.grid, image_channels: args.imageChannels,
        dropout_rate: args.dropout?.rate ?? 0, stream: streamValues(args.dropout),
      }),
      'patch embed params',
    );
    this.#macs += args.grid * args.grid * args.imageChannels * args.patch * args.patch * args.channels;
    // Without CLS the binding is never read; the bias stands in.
    this.#dispatch(
      'patch_embed.wgsl',
      'main',
      { DROPOUT: args.dropout ? 1 : 0, HAS_CLS: args.cls ? 1 : 0 },
      [args.pixels, args.weight, args.bias, args.cls ?? args.bias, args.positions, args.out, uniform],
      grid1d((args.grid * args.grid + (args.cls ? 1 : 0)) * args.channels),
    );
  }

  /**
   * The mask arguments are a TokenMask's fields (src/engine/plan.ts): the base mask, then optionally a token window
   * whose sinks and distances count from row `firstTokenRow` (default 0).
   */
  attention(args: {
    qkv: GPUBuffer; blockCounts: GPUBuffer; blockIndices: GPUBuffer; out: GPUBuffer; probs?: GPUBuffer;
    /** The heads to dispatch, ascending; every head when absent. A masked head's output columns are not written. */
    runHeads?: readonly number[];
    tokens: number; heads: number; headDim: number; maxKeyBlocks: number; bidirectionalPrefix: number;
    tokenWindow?: TokenWindow | null; firstTokenRow?: number; dropout?: DropoutArgs;
    /** An estimator's KeyTokenMask words; shared by the heads unless `keyMaskPerHead`. */
    keyMaskWords?: GPUBuffer | undefined; keyMaskPerHead?: boolean;
    /**
     * (query, key) pairs of every tile the packed lists make the kernel read; null when an estimator writes the lists
     * on the GPU, whose pairs the caller tallies from the lists read back (addDispatchedMacs).
     */
    executedPairs: number | null;
  }): void {
    const window = args.tokenWindow;
    // The kernel reads a window of 0 as "no window".
    if (window && !(window.window >= 1)) throw new Error(`attention: a token window must keep at least 1 token, got ${window.window}`);
    const uniform = this.#frame.uniform(
      attentionParams.pack({
        tokens: args.tokens, heads: args.heads, head_dim: args.headDim, max_key_blocks: args.maxKeyBlocks,
        scale: 1 / Math.sqrt(args.headDim), dropout_rate: args.dropout?.rate ?? 0, bidirectional_prefix: args.bidirectionalPrefix,
        window_sinks: window?.sinks ?? 0, window_size: window?.window ?? 0, window_origin: args.firstTokenRow ?? 0,
        key_mask_words: wordsPerRow(args.tokens), stream: streamValues(args.dropout),
      }),
      'attention params',
    );
    // Without capture the probs binding is never written; a pooled scratch word stands in.
    const probs = args.probs ?? this.#frame.storage(16, 'unused probs');
    const keyMask = args.keyMaskWords ? (args.keyMaskPerHead ? 2 : 1) : 0;
    const constants = { CAPTURE: args.probs ? 1 : 0, DROPOUT: args.dropout ? 1 : 0, KEY_MASK: keyMask, BLOCK: ATTENTION_BLOCK };
    if (args.executedPairs !== null) this.#macs += 2 * args.executedPairs * args.headDim; // QKᵀ and P·V
    const runHeads = args.runHeads ?? Array.from({ length: args.heads }, (_, h) => h);
    const headIds = this.#frame.storageWith(Uint32Array.from(runHeads), 'attention heads');
    // Without a key mask the binding is never read; the head list stands in.
    const buffers = [args.qkv, args.blockCounts, args.blockIndices, args.out, probs, uniform, headIds, args.keyMaskWords ?? headIds];
    this.#dispatch('attention.wgsl', 'main', constants, buffers, [
      Math.ceil(args.tokens / ATTENTION_BLOCK),
      runHeads.length,
    ]);
  }

  /** Work the GPU was asked for that only a read-back tells: attention over lists an estimator wrote. */
  addDispatchedMacs(macs: number): void {
    this.#macs += macs;
  }

  /** The uniform every estimator pass binds as 'shape' (shaders/estimate.wgsl). */
  estimateShape(args: { tokens: number; heads: number; headDim: number; maxKeyBlocks: number; bidirectionalPrefix: number; firstTokenRow: number; layer: number }): GPUBuffer {
    return this.#frame.uniform(
      estimateShape.pack({
        tokens: args.tokens, heads: args.heads, head_dim: args.headDim, max_key_blocks: args.maxKeyBlocks,
        bidirectional_prefix: args.bidirectionalPrefix, first_token_row: args.firstTokenRow, layer: args.layer, block: ATTENTION_BLOCK,
      }),
      'estimate shape',
    );
  }

  /** A technique's estimator passes (BlockEstimator), in order, each with its buffers in binding order. */
  estimate(args: { technique: string; macs: number; passes: readonly (EstimatorPass & { buffers: GPUBuffer[] })[] }): void {
    this.#macs += args.macs;
    for (const pass of args.passes) {
      const source = techniqueShader(pass.source(this.#context.features));
      const pipeline = this.#context.pipeline(source, 'main', pass.constants, `${args.technique}: ${pass.label}`);
      this.#encode(pipeline, pass.buffers, [pass.workgroups[0], pass.workgroups[1]]);
    }
  }

  selectKeep(args: { scores: GPUBuffer; keepMask: GPUBuffer; tokens: number; keep: number }): void {
    const uniform = this.#frame.uniform(selectParams.pack({ tokens: args.tokens, keep: args.keep }), 'select params');
    this.#dispatch('select_keep.wgsl', 'main', {}, [args.scores, args.keepMask, uniform], [Math.ceil(args.tokens / WORKGROUP_1D), 1]);
  }

  prefixSum(args: { keepMask: GPUBuffer; offsets: GPUBuffer; tokens: number }): void {
    const uniform = this.#frame.uniform(scanParams.pack({ tokens: args.tokens }), 'scan params');
    this.#dispatch('compact.wgsl', 'prefix_sum', {}, [args.keepMask, args.offsets, uniform], [1, 1]);
  }

  gatherRows(args: {
    keepMask: GPUBuffer; offsets: GPUBuffer; x: GPUBuffer; positions: GPUBuffer; out: GPUBuffer; outPositions: GPUBuffer;
    tokens: number; channels: number;
  }): void {
    const uniform = this.#frame.uniform(gatherParams.pack({ tokens: args.tokens, channels: args.channels }), 'gather params');
    this.#dispatch('gather_rows.wgsl', 'main', {}, [args.keepMask, args.offsets, args.x, args.positions, args.out, args.outPositions, uniform], grid1d(args.tokens * args.channels));
  }

  /**
   * A technique's scoring kernel (bindings: probs, scores, uniform ScoreShape {heads, tokens, protected_tail,
   * bidirectional_prefix}; workgroup size 64; src/techniques/README.md).
   */
  scoreTokens(args: {
    source: string; constants: PipelineConstants; probs: GPUBuffer; scores: GPUBuffer; heads: number; tokens: number;
    protectedTail: number; bidirectionalPrefix: number;
    /** The scorer's declared cost: its work depends on its own loop, which only the technique knows. */
    macs: number;
  }): void {
    this.#macs += args.macs;
    const uniform = this.#frame.uniform(
      scoreShape.pack({ heads: args.heads, tokens: args.tokens, protected_tail: args.protectedTail, bidirectional_prefix: args.bidirectionalPrefix }),
      'score params',
    );
    const pipeline = this.#context.pipeline(techniqueShader(args.source), 'main', args.constants, 'technique scorer');
    this.#encode(pipeline, [args.probs, args.scores, uniform], [Math.ceil(args.tokens / WORKGROUP_1D), 1]);
  }

  #dispatch(file: string, entryPoint: string, constants: PipelineConstants, buffers: GPUBuffer[], groups: [number, number]): void {
    const pipeline = this.#context.pipeline(engineShader(file), entryPoint, constants, `${file}:${entryPoint}`);
    this.#encode(pipeline, buffers, groups);
  }

  #encode(pipeline: GPUComputePipeline, buffers: GPUBuffer[], [x, y]: [number, number]): void {
    const bindGroup = this.#context.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    this.#pass.setPipeline(pipeline);
    this.#pass.setBindGroup(0, bindGroup);
    this.#pass.dispatchWorkgroups(x, y);
  }
}
