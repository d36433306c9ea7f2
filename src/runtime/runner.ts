/**
 * The one door between the UI and the GPU: the UI sends a RunRequest (plain state), the runner loads the model,
 * plans, runs our engine and the onnxruntime-web reference, and answers with plain data for the panels.
 */
import { argmax, klDivergence, sampleStatistics, softmax } from '../engine/distributions';
import { TransformerEngine } from '../engine/transformerEngine';
import { requestBrowserDevice } from '../engine/gpu';
import { GpuContext } from '../engine/gpuContext';
import type { ForwardResult } from '../engine/result';
import { vitEvalItems, vqaEvalItems, type ImageEvalItem } from '../eval/imageHarness';
import { evaluateLm, needleItems, parseLmEvalSet, type LmEvalItem } from '../eval/lmHarness';
import type { EvalReport } from '../eval/evalReport';
import { countFlops, denseReference, type FlopReport } from '../flops/countFlops';
import type { TransformerConfig } from '../models/config';
import { pixelValues, type RgbImage } from '../models/image';
import { loadModel, type LoadedModel } from '../models/loadModel';
import { openModelCache } from '../models/modelCache';
import { modelSourceKey, type ModelSource } from '../models/modelSource';
import { createOrtReference, ortRuntimeBytesToFetch, type OrtReference } from '../reference/ortReference';
import { buildPlan } from '../techniques/buildPlan';
import { keptAttentionMass } from '../flops/keptMass';
import type { ActiveTechnique } from '../techniques/types';
import { DownloadTally, type DownloadProgress } from './downloads';

/** An image the user chose from their computer, already cut and scaled to the model's input (see ui/imageFile.ts). */
export interface UploadedImage {
  /** Tells uploads apart, so requests are compared by it rather than by their pixels. */
  id: number;
  /** The file's name, shown in the picker and the image panel. */
  name: string;
  image: RgbImage;
}

/** Where an image model's image comes from: an item of its eval set (an index into eval.json's items), or the user. */
export type ImageSource = { kind: 'eval'; item: number } | { kind: 'uploaded'; upload: UploadedImage };

/** Which image an image model runs on, and what a VLM is asked about it. */
export interface ImageChoice {
  source: ImageSource;
  /**
   * The VLM's question; null asks the eval item's own question, or about an uploaded image the eval set's first
   * question (none when the model has no eval set).
   */
  question: string | null;
}

export interface RunRequest {
  modelSource: ModelSource;
  /** A text model's input. */
  prompt: string;
  /** An image model's input; text models ignore it. */
  image: ImageChoice;
  active: ActiveTechnique[];
  view: { layer: number };
}

/** One item of an image model's eval set, as the image picker shows it. */
export interface EvalItemView {
  task: string;
  image: RgbImage;
  /** The question (VLM), or what a classifier should find. */
  text: string;
  /** Label of the expected answer. */
  answer: string;
}

/** The inputs a model takes, reported as soon as it is loaded so the controls can offer them before a run succeeds. */
export interface ModelInputs {
  /** modelSourceKey of the model, which tells these apart from an earlier model's. */
  modelKey: string;
  takesText: boolean;
  /** Pixels per side of the image an image model takes (an uploaded image is cut and scaled to it); null for text models. */
  imageSize: number | null;
  /** Most text tokens one input may have: a VLM's question, a text model's prompt; 0 for a classifier. */
  maxTextTokens: number;
  /** The eval images an image model can run on (its eval set); empty for text models and image models without one. */
  evalItems: readonly EvalItemView[];
  /** A text model's eval prompts with the answers they expect (recall-lm's eval.json); empty for other models. */
  promptItems: readonly LmEvalItem[];
  /** Tokens the model reads `text` as, so the prompt box can count against `maxTextTokens` as the user types. */
  countTextTokens(text: string): number;
  /** Layers and heads, which bound the layer parameters and the view's layer and head. */
  shape: Pick<TransformerConfig, 'n_layer' | 'n_head'>;
}

/** Where the image a run saw came from: an eval item, which says what the answer should be, or the user's file. */
export type ImageOrigin = { kind: 'eval'; item: number; evalItem: EvalItemView } | { kind: 'uploaded'; name: string };

/** What the image panel draws: the image the model saw, and which of its patches each layer computed. */
export interface ImageRunOutput {
  image: RgbImage;
  origin: ImageOrigin;
  /** The question the VLM was asked; null for a classifier. */
  question: string | null;
  /** Words of the question the tokenizer does not know and reads as its unknown token. */
  unknownWords: string[];
  /** Patches per side; patch r·grid + c is input row r·grid + c (the engine puts patches first, row-major). */
  grid: number;
  /** Patch indices, ascending, that each layer computed (index = layer). */
  patchesPerLayer: Int32Array[];
}

export interface PredictionRow {
  tokenId: number;
  label: string;
  /** null while the dense reference is still loading. */
  denseProb: number | null;
  currentProb: number;
  currentStd: number;
}

export interface RunOutput {
  /** One per input row: image tokens first ("patch(r,c)", then a ViT's "CLS"), then text tokens. */
  tokenLabels: string[];
  forward: ForwardResult;
  /** The FLOP counter's report of the plan that ran, and of its dense twin (every technique off). */
  flops: { current: FlopReport; dense: FlopReport };
  /**
   * With a GPU estimator and no token reduction: per layer, the share of the dense model's attention mass that the
   * computed keys hold (spec §6's "kept attention mass"), for the layers whose attention fits the readback; else null.
   */
  keptMass: (number | null)[] | null;
  predictions: PredictionRow[];
  /**
   * How the output compares with the dense reference. null on a first visit while onnxruntime-web still downloads:
   * the output is shown without it, and completed once it arrives (RunEvents.onDenseReferencePending).
   */
  dense: DenseComparison | null;
  adapterDescription: string;
  /** What the user should know about the loaded model (no ONNX export, files kept in memory only, …). */
  modelNotices: string[];
  /** null for text models. */
  image: ImageRunOutput | null;
}

export interface DenseComparison {
  klDenseToCurrent: number;
  top1Agrees: boolean;
  /** What computed the dense output, and how long it took. */
  provider: string;
  ms: number;
}

export interface RunEvents {
  /**
   * Called while the request's model downloads, and then onnxruntime-web for its dense reference (not at all when
   * both are loaded). The runtime's download may go on after run() resolved.
   */
  onLoadProgress?(progress: DownloadProgress): void;
  /** Called once the request's model is loaded, before the forward pass (which may still fail on its input). */
  onModelReady?(inputs: ModelInputs): void;
  /**
   * Called when run() resolves with `dense: null`, the reference still loading: `complete` is the same output with
   * the comparison, or the reference's failure.
   */
  onDenseReferencePending?(complete: Promise<RunOutput>): void;
}

/**
 * An image model without eval images has nothing to run on until the user chooses an image. Not a failure: the page
 * waits for the image instead of showing an error.
 */
export class NoImageChosenError extends Error {
  override name = 'NoImageChosenError';
}

/** The recall-lm needle grid under the switched-on techniques, next to the same grid with none. */
export interface NeedleGridRequest {
  active: readonly ActiveTechnique[];
  /** Items per (length, depth) cell. */
  perCell: number;
  signal?: AbortSignal;
  /** Items evaluated so far, of both grids together. */
  onProgress?: (done: number, total: number) => void;
}

export interface NeedleGridResult {
  current: EvalReport;
  dense: EvalReport;
  lengths: number[];
  depths: number[];
}

export interface Runner {
  run(request: RunRequest, events?: RunEvents): Promise<RunOutput>;
  /** On the model the last run loaded; rejects when it has no needle items. */
  needleGrid(request: NeedleGridRequest): Promise<NeedleGridResult>;
  readonly lost: Promise<string>;
  dispose(): void;
}

const TOP_K = 8;
/**
 * Most bytes of attention probabilities one run reads back. Every layer's fits for short inputs (a 4-layer, 4-head
 * model reads all 4 layers up to 512 tokens), so choosing another layer or head only redraws. Past it only the
 * view's layer is read, and choosing another layer runs the model again: the engine reads captures back within
 * the forward pass, so reading the other layers later is not an option, and all four layers of a 1024-token input
 * would hold 64 MiB on the GPU, in the readback and in the page for as long as the output is shown.
 */
const ATTENTION_READBACK_BUDGET_BYTES = 16 * 2 ** 20;
/** Without an ONNX export the dense column is our own engine with every technique off: not independent, but still the baseline the techniques are measured against. */
/** On CPU adapters ORT's WebGPU provider is ~100× slower than its wasm one (../shared/platform.md). */
const REFERENCE_PROVIDER = 'wasm';
const NO_REFERENCE_PROVIDER = 'none (no onnx/model.onnx): our engine, dense';
const NO_REFERENCE_NOTICE =
  'This model has no onnx/model.onnx, so there is no independent dense reference: the dense column is our own engine with every technique off.';

interface ActiveModel {
  key: string;
  model: LoadedModel;
  engine: TransformerEngine;
  /**
   * onnxruntime-web on the model's ONNX export, null when the model has none. Still loading while the engine runs
   * its first forward pass: compiling ORT's wasm takes seconds, and our first result should not wait for it.
   */
  reference: Promise<OrtReference> | null;
  /** Until the reference has loaded (or failed), runs answer without waiting for it. */
  referenceLoading: boolean;
  notices: string[];
  evalSet: EvalSet;
  inputs: ModelInputs;
  /**
   * Dense output-row probabilities by input, so toggling a technique does not rerun the reference. Promises, so runs
   * on one input while the reference loads share its one computation.
   */
  denseCache: Map<string, Promise<{ probs: Float32Array; ms: number }>>;
}

/** An image model's eval items: as the harness reads them (ids, answer id), and as the picker shows them. */
export interface EvalSet {
  items: readonly ImageEvalItem[];
  views: readonly EvalItemView[];
}

function disposeModel(model: ActiveModel): void {
  model.engine.destroy();
  // A reference that failed to load has nothing to release; its error was shown by the run that awaited it.
  void model.reference?.then((ort) => ort.dispose(), () => undefined);
}

export async function createRunner(): Promise<Runner> {
  const gpu = await requestBrowserDevice();
  const context = new GpuContext(gpu.device);
  const lost = gpu.device.lost.then((info) => `The GPU device was lost (${info.reason}): ${info.message || 'no details'}`);
  const cache = await openModelCache();
  let active: ActiveModel | undefined;
  let loading: Promise<ActiveModel> | undefined;

  const modelFor = async (source: ModelSource, events: RunEvents): Promise<ActiveModel> => {
    const key = modelSourceKey(source);
    if (active?.key === key) return active;
    if (loading) {
      const pending = await loading;
      if (pending.key === key) return pending;
    }
    loading = (async () => {
      const downloads = new DownloadTally(ortRuntimeBytesToFetch(), (progress) => events.onLoadProgress?.(progress));
      // A failed load throws before `active` changes, so the previous model keeps working.
      const model = await loadModel(source, { cache, limits: gpu.device.limits, onProgress: (progress) => downloads.model(progress) });
      const evalSet = readEvalSet(model);
      const prompts = readPromptItems(model);
      const reference = model.onnx
        ? createOrtReference(model.onnx, { provider: REFERENCE_PROVIDER, onDownloadProgress: (progress) => downloads.reference(progress) })
        : null;
      if (!reference) downloads.noReference();
      const notices = [...model.notices, ...(reference ? [] : [NO_REFERENCE_NOTICE]), ...prompts.notices];
      const engine = new TransformerEngine(context, model.config, model.weights);
      const inputs: ModelInputs = {
        modelKey: key,
        takesText: model.config.maxTextTokens > 0,
        imageSize: model.config.image?.size ?? null,
        maxTextTokens: model.config.maxTextTokens,
        evalItems: evalSet.views,
        promptItems: prompts.items,
        countTextTokens: (text) => model.tokenizer.encode(text).length,
        shape: { n_layer: model.config.n_layer, n_head: model.config.n_head },
      };
      const next: ActiveModel = { key, model, engine, reference, referenceLoading: reference !== null, notices, evalSet, inputs, denseCache: new Map() };
      void reference?.then(
        () => (next.referenceLoading = false),
        () => (next.referenceLoading = false),
      );
      if (active) disposeModel(active);
      active = next;
      return next;
    })();
    try {
      return await loading;
    } finally {
      loading = undefined;
    }
  };

  return {
    lost,
    async run(request, events = {}) {
      const active = await modelFor(request.modelSource, events);
      const { model, engine, reference, notices, evalSet, inputs, denseCache } = active;
      events.onModelReady?.(inputs);
      const { config } = model;
      const { ids, pixels, image } = modelInput(model, evalSet, request);
      const tokens = config.imageTokens + ids.length;
      const layer = Math.min(Math.max(0, request.view.layer), config.n_layer - 1);
      const captured = attentionLayersToRead(config, tokens, layer);
      const plan = buildPlan(config, tokens, request.active, { captureLayers: captured });
      const forwardStarted = performance.now();
      const forward = await engine.forward(plan, ids, { readAttention: captured, pixels });
      // User Timing entries: they split a toggle's latency in DevTools and in bench/pageTimings.mjs.
      performance.measure('run: engine forward + readback', { start: forwardStarted });
      const keptMass = await keptMassOfEstimates(engine, forward, ids, pixels, captured);

      const denseKey = `${image ? imageKey(request.image.source) : ''}|${ids.join(',')}`;
      let dense = denseCache.get(denseKey);
      if (!dense) {
        dense = (async () => {
          const ort = reference ? await reference : null;
          const started = performance.now();
          // ORT answers one row per text token (or one for a classifier); the output row is the last.
          const probs = ort
            ? softmax((await ort.logits(ids, pixels)).slice(-config.vocab_size))
            : (await engine.forward(buildPlan(config, tokens, []), ids, { pixels })).sampleProbs;
          performance.measure('run: dense reference', { start: started });
          return { probs, ms: performance.now() - started };
        })();
        denseCache.set(denseKey, dense);
        // A failure is reported by the run that awaits it; the next run on this input tries again.
        dense.catch(() => denseCache.delete(denseKey));
      }
      const { tokenLabel } = model.tokenizer;
      const provider = reference ? `onnxruntime-web ${REFERENCE_PROVIDER}` : NO_REFERENCE_PROVIDER;
      const output = (denseProbs: Float32Array | null, denseMs: number): RunOutput => {
        const started = performance.now();
        const { predictions, comparison } = compareWithDense(denseProbs, forward.sampleProbs, config.vocab_size, tokenLabel);
        // The plan as it ran: GPU-decided tiles are only known after the forward.
        const flops = { current: countFlops(forward.plan), dense: denseReference(plan) };
        performance.measure('run: FLOP count + comparison', { start: started });
        return {
          tokenLabels: [...imageTokenLabels(config), ...ids.map(tokenLabel)],
          forward,
          flops,
          keptMass,
          predictions,
          dense: comparison && { ...comparison, provider, ms: denseMs },
          adapterDescription: gpu.adapterDescription,
          modelNotices: notices,
          image: image && { ...image, patchesPerLayer: patchesPerLayer(forward.layerPositions, image.grid ** 2) },
        };
      };
      if (active.referenceLoading && events.onDenseReferencePending) {
        // A first visit: onnxruntime-web is still downloading (14 MB), and our engine's result need not wait for it.
        events.onDenseReferencePending(dense.then(({ probs, ms }) => output(probs, ms)));
        return output(null, 0);
      }
      const { probs, ms } = await dense;
      return output(probs, ms);
    },
    async needleGrid({ active: techniques, perCell, signal, onProgress }) {
      if (!active) throw new Error('no model is loaded yet');
      const { model, engine } = active;
      const items = needleItems(readPromptItems(model).items, perCell);
      if (items.length === 0) throw new Error(`${model.name} has no needle prompts in its eval.json`);
      const encode = (text: string) => model.tokenizer.encode(text);
      const total = 2 * items.length;
      const dense = await evaluateLm(engine, items, { encode, active: [], signal, onProgress: (done) => onProgress?.(done, total) });
      const current = await evaluateLm(engine, items, { encode, active: techniques, signal, onProgress: (done) => onProgress?.(items.length + done, total) });
      const sorted = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);
      return { current, dense, lengths: sorted(items.map((item) => item.length)), depths: sorted(items.map((item) => item.depth ?? 0)) };
    },
    dispose() {
      if (active) disposeModel(active);
      context.pool.destroy();
      gpu.device.destroy();
    },
  };
}

/**
 * Kept attention mass of what an estimator chose: a dense forward on the same input reads the dense probabilities of
 * the layers a run may read back, and each is summed over the keys the sparse run computed.
 */
async function keptMassOfEstimates(
  engine: TransformerEngine, forward: ForwardResult, ids: readonly number[], pixels: Float32Array | undefined, layers: readonly number[],
): Promise<(number | null)[] | null> {
  const ran = forward.plan;
  if (!ran.layers.some((layer) => layer.estimator) || ran.reductions.length > 0) return null;
  const dense = await engine.forward(buildPlan(engine.config, ran.inputTokens, [], { captureLayers: layers }), ids, { readAttention: layers, pixels });
  return ran.layers.map((layer) => {
    const capture = dense.attention.find((a) => a.layer === layer.index);
    return capture ? keptAttentionMass(engine.config, layer, capture.probs) : null;
  });
}

/**
 * The layers whose attention a run reads back: every layer while they fit ATTENTION_READBACK_BUDGET_BYTES (counted
 * at the input's length: pruning only makes later layers smaller), else only the view's.
 */
export function attentionLayersToRead(config: Pick<TransformerConfig, 'n_layer' | 'n_head'>, tokens: number, viewLayer: number): number[] {
  const everyLayerBytes = config.n_layer * config.n_head * tokens ** 2 * Float32Array.BYTES_PER_ELEMENT;
  return everyLayerBytes <= ATTENTION_READBACK_BUDGET_BYTES ? Array.from({ length: config.n_layer }, (_, l) => l) : [viewLayer];
}

/** The eval set of an image model (empty for text models and image models without eval.json). */
export function readEvalSet(model: Pick<LoadedModel, 'name' | 'config' | 'tokenizer' | 'evalSet'>): EvalSet {
  if (!model.config.image || model.evalSet === null) return { items: [], views: [] };
  let items: ImageEvalItem[];
  try {
    // A classifier's eval set labels images; a VLM's asks questions about them.
    items = model.config.labels ? vitEvalItems(model.evalSet) : vqaEvalItems(model.evalSet);
  } catch (error) {
    throw new Error(`${model.name}'s eval.json is not an evaluation set this page can read (${error instanceof Error ? error.message : String(error)}).`, { cause: error });
  }
  const views = items.map((item) => ({ task: item.task, image: item.image, text: item.text, answer: model.tokenizer.tokenLabel(item.answer) }));
  return { items, views };
}

/**
 * A text model's eval prompts (empty for image models and text models without eval.json). An eval.json this page
 * cannot read as prompts (a hub repository's own format) only costs the picker, so it is a notice, not a failure.
 */
export function readPromptItems(model: Pick<LoadedModel, 'name' | 'config' | 'evalSet'>): { items: LmEvalItem[]; notices: string[] } {
  if (model.config.image || model.evalSet === null) return { items: [], notices: [] };
  try {
    return { items: parseLmEvalSet(model.evalSet), notices: [] };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { items: [], notices: [`${model.name}'s eval.json is not a set of prompts this page can read (${reason}), so no eval prompts are offered.`] };
  }
}

/** A run's input: text token ids, the image's pixel_values for image models, and what the image panel shows of it. */
export interface ModelInput {
  ids: number[];
  pixels: Float32Array | undefined;
  image: Omit<ImageRunOutput, 'patchesPerLayer'> | null;
}

/**
 * The request's input for this model, or an error that says how to fix it: a text model tokenizes the prompt; an
 * image model takes the chosen image (an eval item's or the user's), and a VLM the question (the eval item's own
 * unless one was typed). An image model with no eval set and no image of the user's throws NoImageChosenError.
 */
export function modelInput(
  model: Pick<LoadedModel, 'name' | 'config' | 'tokenizer'>,
  evalSet: EvalSet,
  request: Pick<RunRequest, 'prompt' | 'image'>,
): ModelInput {
  const { name, config, tokenizer } = model;
  if (!config.image) {
    const ids = tokenizer.encode(request.prompt);
    if (ids.length === 0) throw new Error('Type a prompt: the model needs at least one token.');
    if (ids.length > config.maxTextTokens) {
      throw new Error(`The prompt is ${ids.length} tokens long but ${name} takes at most ${config.maxTextTokens}. Shorten it.`);
    }
    return { ids, pixels: undefined, image: null };
  }
  const { image, origin, ownQuestion } = chosenImage(name, evalSet, request.image.source);
  const pixels = pixelValues(image, config.image);
  const { grid } = config.image;
  if (config.maxTextTokens === 0) return { ids: [], pixels, image: { image, origin, question: null, unknownWords: [], grid } };
  const question = request.image.question ?? ownQuestion;
  const ids = tokenizer.encode(question);
  if (ids.length === 0) throw new Error(`Type a question about the image: ${name} needs at least one text token.`);
  if (ids.length > config.maxTextTokens) {
    throw new Error(`The question is ${ids.length} tokens long but ${name} takes at most ${config.maxTextTokens} after its ${config.imageTokens} image tokens. Shorten it.`);
  }
  return { ids, pixels, image: { image, origin, question, unknownWords: tokenizer.unknownWords(question), grid } };
}

/** The image a source names, where it came from, and the question a VLM asks about it when none was typed. */
function chosenImage(name: string, evalSet: EvalSet, source: ImageSource): { image: RgbImage; origin: ImageOrigin; ownQuestion: string } {
  const { items, views } = evalSet;
  if (source.kind === 'uploaded') {
    // The user's image has no question of its own; the eval set's first one is a question the model knows how to read.
    return { image: source.upload.image, origin: { kind: 'uploaded', name: source.upload.name }, ownQuestion: items[0]?.text ?? '' };
  }
  if (items.length === 0) throw new NoImageChosenError(`${name} has no eval images: choose an image of your own in the image picker.`);
  const { item } = source;
  const evalItem = items[item];
  const view = views[item];
  if (!evalItem || !view) {
    throw new Error(`There is no eval image ${item}: ${name}'s eval set has ${items.length} items (0–${items.length - 1}). Pick one in the image picker.`);
  }
  return { image: evalItem.image, origin: { kind: 'eval', item, evalItem: view }, ownQuestion: evalItem.text };
}

/** Names the image of a run for the dense cache: an eval item by its index, an upload by its id. */
function imageKey(source: ImageSource): string {
  return source.kind === 'eval' ? `eval ${source.item}` : `upload ${source.upload.id}`;
}

/** Labels of the image rows, in the engine's order: patches row-major ("patch(row,column)"), then a ViT's CLS. */
export function imageTokenLabels(config: TransformerConfig): string[] {
  if (!config.image) return [];
  const { grid, cls } = config.image;
  const patches = Array.from({ length: grid * grid }, (_, p) => `patch(${Math.floor(p / grid)},${p % grid})`);
  return cls ? [...patches, 'CLS'] : patches;
}

/** Of the input positions each layer computed, the patches (positions below `patches`). */
export function patchesPerLayer(layerPositions: readonly Int32Array[], patches: number): Int32Array[] {
  return layerPositions.map((positions) => positions.filter((position) => position < patches));
}

/**
 * Top-k of the current (Monte-Carlo mean) distribution next to the dense one, with KL(dense‖current) and top-1
 * agreement; without the dense distribution (still loading) the top-k alone.
 */
export function compareWithDense(denseProbs: Float32Array | null, sampleProbs: Float32Array, vocab: number, tokenLabel: (id: number) => string) {
  const { mean, std } = sampleStatistics(sampleProbs, vocab);
  const order = Array.from(mean.keys()).sort((a, b) => mean[b]! - mean[a]! || a - b);
  const predictions: PredictionRow[] = order.slice(0, TOP_K).map((tokenId) => ({
    tokenId,
    label: tokenLabel(tokenId),
    denseProb: denseProbs ? denseProbs[tokenId]! : null,
    currentProb: mean[tokenId]!,
    currentStd: std[tokenId]!,
  }));
  const comparison = denseProbs && { klDenseToCurrent: klDivergence(denseProbs, mean), top1Agrees: order[0] === argmax(denseProbs) };
  return { predictions, comparison };
}
