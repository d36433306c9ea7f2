/**
 * The one door between the UI and the GPU: the UI sends a RunRequest (plain state), the runner loads the model,
 * plans, runs our engine and the onnxruntime-web reference, and answers with plain data for the panels.
 */
import { argmax, klDivergence, sampleStatistics, softmax } from '../engine/distributions';
import { TransformerEngine } from '../engine/transformerEngine';
import { requestBrowserDevice } from '../engine/gpu';
import { GpuContext } from '../engine/gpuContext';
import type { ForwardResult } from '../engine/result';
import { countFlops, denseReference, FLOP_CONVENTION, type FlopReport } from '../flops/countFlops';
import { loadModel, type LoadedModel } from '../models/loadModel';
import { openModelCache } from '../models/modelCache';
import type { LoadProgress } from '../models/modelFiles';
import { modelSourceKey, type ModelSource } from '../models/modelSource';
import type { FlopSplit, FlopsPanelData } from '../panels/flopsBars';
import { createOrtReference, type OrtReference } from '../reference/ortReference';
import { buildPlan } from '../techniques/buildPlan';
import type { ActiveTechnique } from '../techniques/types';

export interface RunRequest {
  modelSource: ModelSource;
  prompt: string;
  active: ActiveTechnique[];
  view: { layer: number };
}

export interface PredictionRow {
  tokenId: number;
  label: string;
  denseProb: number;
  currentProb: number;
  currentStd: number;
}

export interface RunOutput {
  tokenLabels: string[];
  forward: ForwardResult;
  flops: FlopsPanelData;
  predictions: PredictionRow[];
  klDenseToCurrent: number;
  top1Agrees: boolean;
  denseReference: { provider: string; ms: number };
  adapterDescription: string;
  /** What the user should know about the loaded model (no ONNX export, files kept in memory only, …). */
  modelNotices: string[];
}

export interface RunEvents {
  /** Called while the request's model downloads (not at all when it is already loaded). */
  onLoadProgress?(progress: LoadProgress): void;
}

export interface Runner {
  run(request: RunRequest, events?: RunEvents): Promise<RunOutput>;
  readonly lost: Promise<string>;
  dispose(): void;
}

const TOP_K = 8;
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
  notices: string[];
  /** Dense logits of the last position by prompt, so toggling a technique does not rerun the reference. */
  denseCache: Map<string, { probs: Float32Array; ms: number }>;
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
      // A failed load throws before `active` changes, so the previous model keeps working.
      const model = await loadModel(source, { cache, limits: gpu.device.limits, onProgress: events.onLoadProgress });
      const reference = model.onnx ? createOrtReference(model.onnx, { provider: REFERENCE_PROVIDER }) : null;
      const notices = reference ? model.notices : [...model.notices, NO_REFERENCE_NOTICE];
      const engine = new TransformerEngine(context, model.config, model.weights);
      const next: ActiveModel = { key, model, engine, reference, notices, denseCache: new Map() };
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
      const { model, engine, reference, notices, denseCache } = await modelFor(request.modelSource, events);
      const ids = model.tokenizer.encode(request.prompt);
      if (ids.length === 0) throw new Error('Type a prompt: the model needs at least one token.');
      const { config } = model;
      if (ids.length > config.n_positions) {
        throw new Error(`The prompt is ${ids.length} tokens long but ${model.name} takes at most ${config.n_positions}. Shorten it.`);
      }
      const layer = Math.min(Math.max(0, request.view.layer), config.n_layer - 1);
      const plan = buildPlan(config, ids.length, request.active, { captureLayers: [layer] });
      const forward = await engine.forward(plan, ids, { readAttention: [layer] });

      let dense = denseCache.get(request.prompt);
      if (!dense) {
        const ort = reference ? await reference : null;
        const started = performance.now();
        const probs = ort
          ? softmax((await ort.logits(ids)).subarray((ids.length - 1) * config.vocab_size))
          : (await engine.forward(buildPlan(config, ids.length, []), ids)).sampleProbs;
        dense = { probs, ms: performance.now() - started };
        denseCache.set(request.prompt, dense);
      }
      const { tokenLabel } = model.tokenizer;
      return {
        tokenLabels: ids.map(tokenLabel),
        forward,
        flops: flopsPanelData(countFlops(plan), denseReference(plan)),
        ...compareWithDense(dense.probs, forward.sampleProbs, config.vocab_size, tokenLabel),
        denseReference: { provider: reference ? `onnxruntime-web ${REFERENCE_PROVIDER}` : NO_REFERENCE_PROVIDER, ms: dense.ms },
        adapterDescription: gpu.adapterDescription,
        modelNotices: notices,
      };
    },
    dispose() {
      if (active) disposeModel(active);
      context.pool.destroy();
      gpu.device.destroy();
    },
  };
}

/** Top-k of the current (Monte-Carlo mean) distribution next to the dense one, with KL(dense‖current) and top-1 agreement. */
export function compareWithDense(denseProbs: Float32Array, sampleProbs: Float32Array, vocab: number, tokenLabel: (id: number) => string) {
  const { mean, std } = sampleStatistics(sampleProbs, vocab);
  const order = Array.from(mean.keys()).sort((a, b) => mean[b]! - mean[a]! || a - b);
  const predictions: PredictionRow[] = order.slice(0, TOP_K).map((tokenId) => ({
    tokenId,
    label: tokenLabel(tokenId),
    denseProb: denseProbs[tokenId]!,
    currentProb: mean[tokenId]!,
    currentStd: std[tokenId]!,
  }));
  return { predictions, klDenseToCurrent: klDivergence(denseProbs, mean), top1Agrees: order[0] === argmax(denseProbs) };
}

/** The FLOP counter's report as the panel draws it: per layer FLOPs by part, current (all MC samples) next to dense. */
export function flopsPanelData(current: FlopReport, dense: FlopReport, headLabel = 'LM head'): FlopsPanelData {
  const split = (report: FlopReport, layer: number): FlopSplit => {
    const l = report.layers[layer];
    if (!l) return {};
    const times = 2 * report.samples;
    return {
      qkv: times * l.macs.qkv,
      attnScores: times * l.macs.attnScores,
      attnValues: times * l.macs.attnValues,
      attnOut: times * l.macs.attnProj,
      mlpUp: times * l.macs.mlpUp,
      mlpDown: times * l.macs.mlpDown,
      overhead: times * l.macs.overhead,
    };
  };
  const samples = current.samples > 1 ? ` Current bars include all ${current.samples} Monte-Carlo passes.` : '';
  const patchBar = current.embedding.macs > 0
    ? [{ label: 'patches', dense: { patchEmbedding: 2 * dense.embedding.macs }, current: { patchEmbedding: 2 * current.samples * current.embedding.macs } }]
    : [];
  return {
    layers: [
      ...patchBar,
      ...current.layers.map((_, i) => ({ label: `L${i}`, dense: split(dense, i), current: split(current, i) })),
      { label: headLabel, dense: { lmHead: 2 * dense.lmHead.macs }, current: { lmHead: 2 * current.samples * current.lmHead.macs } },
    ],
    convention: `${FLOP_CONVENTION}${samples}`,
  };
}
