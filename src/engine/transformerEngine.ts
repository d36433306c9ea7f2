import type { TransformerConfig } from '../models/config';
import type { LayerWeights, TransformerWeights } from '../models/modelWeights';
import { softmax } from './distributions';
import { Frame, type GpuContext, readFloat32, readInt32 } from './gpuContext';
import { elementDropout } from './dropoutSites';
import { KernelRecorder } from './kernels';
import { attendedKeyBlocks, layerSteps, tokensAfterLayer, type GpuLayerRun, type LayerKeyBuffers } from './layerSteps';
import {
  ATTENTION_BLOCK, blockCount, lastVisibleBlock, keyMaskWords, tokenMask, type ExecutionPlan, type KeyBlockLists, type KeySelection, type LayerPlan,
} from './plan';
import type { AttentionCapture, ForwardResult, TimingMethod } from './result';

type LayerBuffers = Record<keyof LayerWeights, GPUBuffer>;

export interface ForwardOptions {
  /** Layers whose attention probabilities are read back for display (the plan must capture them). */
  readAttention?: readonly number[];
  /** The image of an image model: pixel_values [channels, size, size], already normalised (see src/models/image.ts). */
  pixels?: Float32Array;
}

interface TokenEmbeddingBuffers {
  wte: GPUBuffer;
  wpe: GPUBuffer;
}

interface PatchEmbeddingBuffers {
  weight: GPUBuffer;
  bias: GPUBuffer;
  positions: GPUBuffer;
  cls: GPUBuffer | undefined;
}

/** Flattened block lists of one layer, in the attention kernel's fixed-capacity layout. */
export function packKeyBlocks(
  lists: KeyBlockLists,
  tokens: number,
  bidirectionalPrefix = 0,
): { counts: Uint32Array; indices: Uint32Array; maxKeyBlocks: number } {
  const queryBlocks = blockCount(tokens);
  const maxKeyBlocks = queryBlocks;
  const counts = new Uint32Array(lists.length * queryBlocks);
  const indices = new Uint32Array(Math.max(1, lists.length * queryBlocks * maxKeyBlocks));
  lists.forEach((head, h) => {
    if (head.length !== queryBlocks) throw new Error(`block lists of head ${h} have ${head.length} query blocks, expected ${queryBlocks}`);
    head.forEach((blocks, q) => {
      const slot = h * queryBlocks + q;
      counts[slot] = blocks.length;
      blocks.forEach((k, b) => {
        if (k > lastVisibleBlock(q, bidirectionalPrefix)) throw new Error(`head ${h}, query block ${q}: key block ${k} is masked for all its queries`);
        indices[slot * maxKeyBlocks + b] = k;
      });
    });
  });
  return { counts, indices, maxKeyBlocks };
}

/**
 * (query, key) pairs of every tile that packed lists make the attention kernel read, from the packed arrays
 * themselves: the work dispatched, independent of how the plan's lists were counted.
 */
export function packedPairs({ counts, indices, maxKeyBlocks }: ReturnType<typeof packKeyBlocks>, tokens: number): number {
  const queryBlocks = blockCount(tokens);
  const span = (block: number) => Math.min(ATTENTION_BLOCK, tokens - block * ATTENTION_BLOCK);
  let pairs = 0;
  counts.forEach((count, slot) => {
    for (let b = 0; b < count; b++) pairs += span(slot % queryBlocks) * span(indices[slot * maxKeyBlocks + b]!);
  });
  return pairs;
}

/**
 * A pre-LayerNorm transformer (GPT-2, ViT or a LLaVA-style VLM) whose weights live on one GPUDevice. `forward` runs
 * an ExecutionPlan: the plan fixes every shape, so what is decided on the GPU is *which* tokens a prune step keeps
 * and which tiles an estimator lists; the result's plan has the latter filled in. Rows are image tokens first (patches, then a ViT's CLS), then text tokens, so the output row is the last.
 */
export class TransformerEngine {
  readonly config: TransformerConfig;
  readonly #context: GpuContext;
  readonly #tokens: TokenEmbeddingBuffers | undefined;
  readonly #patches: PatchEmbeddingBuffers | undefined;
  readonly #layers: LayerBuffers[];
  readonly #lnFWeight: GPUBuffer;
  readonly #lnFBias: GPUBuffer;
  readonly #headWeight: GPUBuffer;
  readonly #headBias: GPUBuffer | undefined;
  readonly #buffers: GPUBuffer[] = [];
  #destroyed = false;

  constructor(context: GpuContext, config: TransformerConfig, weights: TransformerWeights) {
    this.config = config;
    this.#context = context;
    const uploaded = new Map<Float32Array, GPUBuffer>();
    // A tied head is the embedding matrix itself: upload it once.
    const upload = (data: Float32Array, label: string) => {
      let buffer = uploaded.get(data);
      if (!buffer) {
        buffer = context.upload(data, GPUBufferUsage.STORAGE, label);
        uploaded.set(data, buffer);
        this.#buffers.push(buffer);
      }
      return buffer;
    };
    const { tokens, patches } = weights;
    this.#tokens = tokens ? { wte: upload(tokens.wte, 'wte'), wpe: upload(tokens.wpe, 'wpe') } : undefined;
    this.#patches = patches
      ? {
          weight: upload(patches.weight, 'patch weight'),
          bias: upload(patches.bias, 'patch bias'),
          positions: upload(patches.positions, 'image positions'),
          cls: patches.cls ? upload(patches.cls, 'cls') : undefined,
        }
      : undefined;
    this.#layers = weights.layers.map((layer, i) => {
      const entries = Object.entries(layer) as [keyof LayerWeights, Float32Array][];
      return Object.fromEntries(entries.map(([name, data]) => [name, upload(data, `h.${i}.${name}`)])) as unknown as LayerBuffers;
    });
    this.#lnFWeight = upload(weights.lnFWeight, 'ln_f.weight');
    this.#lnFBias = upload(weights.lnFBias, 'ln_f.bias');
    this.#headWeight = upload(weights.headWeight, 'head weight');
    this.#headBias = weights.headBias ? upload(weights.headBias, 'head bias') : undefined;
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const buffer of this.#buffers) buffer.destroy();
  }

  async forward(plan: ExecutionPlan, ids: readonly number[], options: ForwardOptions = {}): Promise<ForwardResult> {
    if (this.#destroyed) throw new Error('this model was unloaded');
    this.#validate(plan, ids, options.pixels);
    const samples = plan.dropout?.samples ?? 1;
    const vocab = this.config.vocab_size;
    const logitRows = plan.logitsRows === 'all' ? tokensAfterLayer(plan, plan.layers[plan.layers.length - 1]!) : 1;
    const logitsSum = new Float32Array(logitRows * vocab);
    const sampleProbs = new Float32Array(samples * vocab);
    const times: number[] = [];
    let method: TimingMethod = 'wall-clock';
    let dispatchedMacs = 0;
    let firstSample: Awaited<ReturnType<TransformerEngine['runSample']>> | undefined;
    for (let sample = 0; sample < samples; sample++) {
      const run = await this.runSample(plan, ids, sample, options, sample === 0);
      firstSample ??= run;
      times.push(run.ms);
      method = run.method;
      dispatchedMacs += run.dispatchedMacs;
      for (let i = 0; i < logitsSum.length; i++) logitsSum[i]! += run.logits[i]! / samples;
      sampleProbs.set(softmax(run.logits.subarray((logitRows - 1) * vocab)), sample * vocab);
    }
    return {
      plan: firstSample!.plan,
      logits: logitsSum,
      sampleProbs,
      layerPositions: firstSample!.layerPositions,
      attention: firstSample!.attention,
      timing: { ms: median(times), method },
      dispatchedMacs,
    };
  }

  #validate(plan: ExecutionPlan, ids: readonly number[], pixels: Float32Array | undefined): void {
    const { config } = this;
    if (plan.config !== config && JSON.stringify(plan.config) !== JSON.stringify(config)) throw new Error('the plan was made for another model');
    const inputTokens = config.imageTokens + ids.length;
    if (inputTokens !== plan.inputTokens) throw new Error(`the plan is for ${plan.inputTokens} tokens, got ${inputTokens}`);
    if (inputTokens === 0) throw new Error('the input is empty');
    if (ids.length > config.maxTextTokens) {
      throw new Error(
        config.maxTextTokens === 0
          ? 'this model classifies an image and takes no text'
          : `the input has ${ids.length} text tokens but the model takes at most ${config.maxTextTokens}`,
      );
    }
    const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= config.vocab_size);
    if (bad !== undefined) throw new Error(`token id ${bad} is outside the vocabulary (0…${config.vocab_size - 1})`);
    if (config.image) {
      const expected = config.image.channels * config.image.size ** 2;
      if (!pixels) throw new Error('this model needs an image');
      if (pixels.length !== expected) throw new Error(`the image has ${pixels.length} values, expected ${config.image.channels}×${config.image.size}×${config.image.size}`);
    }
  }

  private async runSample(plan: ExecutionPlan, ids: readonly number[], sample: number, options: ForwardOptions, readBack: boolean) {
    const context = this.#context;
    const device = context.device;
    const { n_embd: channels, n_head: heads, n_inner: inner, vocab_size: vocab, layer_norm_epsilon: epsilon } = this.config;
    const inputTokens = plan.inputTokens;
    const frame = new Frame(context);

    try {
      const hiddenBytes = inputTokens * channels * 4;
      const initialPositions = frame.storageWith(Int32Array.from({ length: inputTokens }, (_, i) => i), 'positions');
      // Each reduction writes its survivors' positions to a fresh buffer, so every layer's positions stay readable.
      const positionSnapshots = [{ fromLayer: 0, tokens: inputTokens, buffer: initialPositions }];

      // Writing probabilities costs the attention kernel a second pass over its keys: capture a layer only where it is
      // read, by a reduction's scorer in every sample or by a panel in the sample read back.
      const scored = new Set(plan.reductions.map((step) => step.input.layer));
      const shown = new Set(readBack ? (options.readAttention ?? []) : []);
      const probsByLayer = new Map<number, GPUBuffer>();
      for (const layer of plan.layers) {
        if (!layer.captureAttention || !(scored.has(layer.index) || shown.has(layer.index))) continue;
        probsByLayer.set(layer.index, frame.storage(heads * layer.tokens * layer.tokens * 4, `probs ${layer.index}`));
      }
      const blockBuffers = plan.layers.map((layer): LayerKeyBuffers => {
        const packed = packKeyBlocks(layer.keyBlocks, layer.tokens, layer.bidirectionalPrefix);
        const planned = {
          counts: frame.storageWith(packed.counts, `block counts ${layer.index}`),
          indices: frame.storageWith(packed.indices, `block indices ${layer.index}`),
        };
        const { estimator } = layer;
        if (!estimator) return { ...planned, planned, maxKeyBlocks: packed.maxKeyBlocks, keyMask: undefined, executedPairs: packedPairs(packed, layer.tokens) };
        const maskWords = keyMaskWords(estimator.keyMask, heads, layer.tokens);
        return {
          planned,
          counts: frame.storage(packed.counts.byteLength, `${estimator.technique} counts ${layer.index}`),
          indices: frame.storage(packed.indices.byteLength, `${estimator.technique} indices ${layer.index}`),
          keyMask: maskWords ? frame.storage(maskWords * 4, `${estimator.technique} key mask ${layer.index}`) : undefined,
          maxKeyBlocks: packed.maxKeyBlocks,
          executedPairs: null,
        };
      });
      const forwardScratch = new Map<string, GPUBuffer>();

      const lastLayer = plan.layers[plan.layers.length - 1]!;
      const finalTokens = tokensAfterLayer(plan, lastLayer);
      const logitRows = plan.logitsRows === 'all' ? finalTokens : 1;
      const logits = frame.storage(logitRows * vocab * 4, 'logits');

      const encoder = device.createCommandEncoder({ label: 'forward' });
      // Unlisted tiles are never written by the attention kernel: zero them so maps show 0 there, not stale values.
      for (const probs of probsByLayer.values()) encoder.clearBuffer(probs);
      // An estimator sets the bits of the keys it keeps (and its lists' counts) and nothing else.
      for (const keys of blockBuffers) {
        if (keys.executedPairs !== null) continue;
        encoder.clearBuffer(keys.counts);
        if (keys.keyMask) encoder.clearBuffer(keys.keyMask);
      }
      // Nor are a masked head's output columns: each layer that masks heads gets an output zeroed before the pass.
      const clearedAttended = plan.layers.map((layer) => {
        if (layer.heads.length === heads) return undefined;
        const buffer = frame.storage(layer.tokens * channels * 4, `attention out ${layer.index}`);
        encoder.clearBuffer(buffer);
        return buffer;
      });
      const querySet = context.hasTimestampQuery ? device.createQuerySet({ type: 'timestamp', count: 2 }) : undefined;
      const pass = encoder.beginComputePass(
        querySet ? { timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {},
      );
      const kernels = new KernelRecorder(context, frame, pass);
      // Steps swap the residual stream's buffers and replace positions as they go; each layer sets its own weights.
      const run: GpuLayerRun = {
        weights: this.#layers[0]!,
        keyBlocks: blockBuffers[0]!,
        clearedAttended: undefined,
        kernels,
        frame,
        x: frame.storage(hiddenBytes, 'hidden A'),
        spare: frame.storage(hiddenBytes, 'hidden B'),
        normed: frame.storage(hiddenBytes, 'normed'),
        qkv: frame.storage(hiddenBytes * 3, 'qkv'),
        attended: frame.storage(hiddenBytes, 'attention out'),
        hidden: frame.storage(inputTokens * inner * 4, 'mlp hidden'),
        positions: initialPositions,
        probs: probsByLayer,
        forwardScratch: (technique, name, bytes) => {
          const key = `${technique}\u0000${name}`;
          let buffer = forwardScratch.get(key);
          if (!buffer) {
            // Zeroed by upload: the compute pass is open, so the encoder cannot clear it any more.
            buffer = frame.storageWith(new Uint8Array(bytes), `${technique} ${name}`);
            forwardScratch.set(key, buffer);
          }
          return buffer;
        },
        onPositions: (fromLayer, tokens, buffer) => positionSnapshots.push({ fromLayer, tokens, buffer }),
      };

      const embedDropout = elementDropout(plan.dropout, 'embedding', 0, sample);
      const imageTokens = this.config.imageTokens;
      if (this.#patches && this.config.image) {
        const { patch, grid, channels: imageChannels } = this.config.image;
        const pixels = frame.storageWith(options.pixels!, 'pixels');
        kernels.patchEmbed({ ...this.#patches, pixels, out: run.x, channels, patch, grid, imageChannels, dropout: embedDropout });
      }
      if (this.#tokens && ids.length > 0) {
        const idBuffer = frame.storageWith(Uint32Array.from(ids), 'ids');
        kernels.embed({ ids: idBuffer, ...this.#tokens, out: run.x, tokens: ids.length, channels, rowOffset: imageTokens, dropout: embedDropout });
      }

      for (const layer of plan.layers) {
        run.weights = this.#layers[layer.index]!;
        run.keyBlocks = blockBuffers[layer.index]!;
        run.clearedAttended = clearedAttended[layer.index];
        for (const step of layerSteps(plan, layer, sample)) step.gpu(run);
      }

      kernels.layerNorm({ x: run.x, gamma: this.#lnFWeight, beta: this.#lnFBias, out: run.normed, rows: logitRows, channels, rowOffset: finalTokens - logitRows, epsilon });
      kernels.lmHead({ x: run.normed, wte: this.#headWeight, bias: this.#headBias, out: logits, m: logitRows, vocab, channels });
      pass.end();

      const timestamps = querySet ? frame.queryResolve(16, 'timestamps') : undefined;
      const timestampRead = querySet ? frame.readback(16, 'timestamps read') : undefined;
      if (querySet && timestamps && timestampRead) {
        encoder.resolveQuerySet(querySet, 0, 2, timestamps, 0);
        encoder.copyBufferToBuffer(timestamps, 0, timestampRead, 0, 16);
      }
      const logitsRead = frame.readback(logitRows * vocab * 4, 'logits read');
      encoder.copyBufferToBuffer(logits, 0, logitsRead, 0, logitRows * vocab * 4);
      const wanted = [...shown].filter((l) => probsByLayer.has(l));
      const attentionReads = wanted.map((l) => {
        const count = heads * plan.layers[l]!.tokens ** 2;
        const read = frame.readback(count * 4, `probs read ${l}`);
        encoder.copyBufferToBuffer(probsByLayer.get(l)!, 0, read, 0, count * 4);
        return { layer: l, read, count };
      });
      // One small readback per estimated layer: what its estimator chose, to count and to show.
      const selectionReads = plan.layers.flatMap((layer) => {
        const keys = blockBuffers[layer.index]!;
        if (keys.executedPairs !== null) return [];
        // Pooled buffers may be larger than asked for: read exactly the words the layout has.
        const copy = (buffer: GPUBuffer, words: number, label: string) => {
          const read = frame.readback(words * 4, label);
          encoder.copyBufferToBuffer(buffer, 0, read, 0, words * 4);
          return { read, words };
        };
        const listSlots = heads * blockCount(layer.tokens);
        const maskWords = keyMaskWords(layer.estimator!.keyMask, heads, layer.tokens);
        return [{
          layer,
          counts: copy(keys.counts, listSlots, `counts read ${layer.index}`),
          indices: copy(keys.indices, listSlots * keys.maxKeyBlocks, `indices read ${layer.index}`),
          keyMask: keys.keyMask ? copy(keys.keyMask, maskWords, `key mask read ${layer.index}`) : undefined,
        }];
      });
      const positionReads = readBack ? positionSnapshots.map((snapshot) => ({ snapshot, read: frame.readback(snapshot.tokens * 4, 'positions read') })) : [];
      for (const { snapshot, read } of positionReads) encoder.copyBufferToBuffer(snapshot.buffer, 0, read, 0, snapshot.tokens * 4);

      const started = performance.now();
      device.queue.submit([encoder.finish()]);
      const logitValues = await readFloat32(logitsRead, logitRows * vocab);
      const wallMs = performance.now() - started;
      let ms = wallMs;
      let method: TimingMethod = 'wall-clock';
      if (timestampRead) {
        await timestampRead.mapAsync(GPUMapMode.READ, 0, 16);
        const [begin, end] = new BigUint64Array(timestampRead.getMappedRange(0, 16));
        timestampRead.unmap();
        if (begin !== undefined && end !== undefined && end > begin) {
          ms = Number(end - begin) / 1e6;
          method = 'timestamp-query';
        }
      }
      querySet?.destroy();

      const selections = new Map<number, KeySelection>();
      for (const read of selectionReads) {
        const { layer } = read;
        const queryBlocks = blockCount(layer.tokens);
        const words = async ({ read, words }: { read: GPUBuffer; words: number }) => new Uint32Array((await readInt32(read, words)).buffer);
        const packed = { counts: await words(read.counts), indices: await words(read.indices), maxKeyBlocks: queryBlocks };
        const keyMask = read.keyMask ? { perHead: layer.estimator!.keyMask === 'per-head', bits: await words(read.keyMask) } : null;
        const selection = { keyBlocks: unpackSelection(packed, layer), keyMask };
        selections.set(layer.index, selection);
        kernels.addDispatchedMacs(2 * packedPairs(packed, layer.tokens) * (this.config.n_embd / heads));
      }
      const executed = resolvePlan(plan, selections);

      const snapshots = await Promise.all(positionReads.map(async ({ snapshot, read }) => ({ fromLayer: snapshot.fromLayer, positions: await readInt32(read, snapshot.tokens) })));
      const layerPositions = plan.layers.map((layer) => {
        const latest = snapshots.filter((s) => s.fromLayer <= layer.index).at(-1);
        return latest?.positions ?? new Int32Array(0);
      });
      const attention: AttentionCapture[] = await Promise.all(
        attentionReads.map(async ({ layer, read, count }) => ({
          layer,
          heads,
          tokens: plan.layers[layer]!.tokens,
          probs: await readFloat32(read, count),
          computedTiles: computedTiles(attendedKeyBlocks(executed.layers[layer]!), plan.layers[layer]!.tokens),
          mask: tokenMask(this.config, executed.layers[layer]!),
          forcedTiles: plan.layers[layer]!.estimator ? computedTiles(plan.layers[layer]!.estimator!.forced, plan.layers[layer]!.tokens) : null,
          blockSize: plan.blockSize,
          positions: layerPositions[layer]!,
        })),
      );
      return { logits: logitValues, ms, method, layerPositions, attention, dispatchedMacs: kernels.dispatchedMacs, plan: executed };
    } finally {
      frame.release();
    }
  }
}

/**
 * Read-back lists of one estimated layer, checked against the contract (BlockEstimator): each a subset of the planned
 * list of its (head, query block), ascending. A violation is a bug in the technique's kernel, named as such.
 */
function unpackSelection({ counts, indices, maxKeyBlocks }: { counts: Uint32Array; indices: Uint32Array; maxKeyBlocks: number }, layer: LayerPlan): KeyBlockLists {
  const technique = layer.estimator!.technique;
  return layer.keyBlocks.map((headLists, h) =>
    headLists.map((allowed, q) => {
      const slot = h * maxKeyBlocks + q;
      const count = counts[slot]!;
      if (count > allowed.length) throw new Error(`${technique} listed ${count} key blocks for head ${h}, query block ${q} of layer ${layer.index}, more than the ${allowed.length} planned`);
      const chosen = Array.from(indices.subarray(slot * maxKeyBlocks, slot * maxKeyBlocks + count));
      const bad = chosen.find((k, b) => !allowed.includes(k) || (b > 0 && k <= chosen[b - 1]!));
      if (bad !== undefined) throw new Error(`${technique} listed key block ${bad} for head ${h}, query block ${q} of layer ${layer.index}: not planned there, or out of order`);
      return chosen;
    }),
  );
}

/** `plan` with each estimated layer's choice filled in: what ran, for the FLOP counter and the panels. */
export function resolvePlan(plan: ExecutionPlan, selections: ReadonlyMap<number, KeySelection>): ExecutionPlan {
  if (selections.size === 0) return plan;
  return { ...plan, layers: plan.layers.map((layer) => (selections.has(layer.index) ? { ...layer, selection: selections.get(layer.index)! } : layer)) };
}

/** [heads, queryBlocks, keyBlocks] mask of the tiles a layer's attention kernel computes. */
export function computedTiles(lists: KeyBlockLists, tokens: number): Uint8Array {
  const blocks = blockCount(tokens);
  const tiles = new Uint8Array(lists.length * blocks * blocks);
  lists.forEach((head, h) => head.forEach((keys, q) => keys.forEach((k) => (tiles[(h * blocks + q) * blocks + k] = 1))));
  return tiles;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
