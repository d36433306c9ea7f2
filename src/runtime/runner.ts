/**
 * The one door between the UI and the GPU: the UI sends a RunRequest (plain state), the runner loads the model,
 * plans, runs our engine and the onnxruntime-web reference, and answers with plain data for the panels.
 */
import { argmax, klDivergence, sampleStatistics, softmax } from '../engine/distributions';
import { Gpt2Engine } from '../engine/gpt2Engine';
import { requestBrowserDevice } from '../engine/gpu';
import { GpuContext } from '../engine/gpuContext';
import type { ForwardResult } from '../engine/result';
import { countFlops, denseReference, FLOP_CONVENTION, type FlopReport } from '../flops/countFlops';
import { bundledModelUrl } from '../models/bundledModels';
import { encode, tokenLabels, decodeToken } from '../models/byteTokenizer';
import { loadBundledModel, type LoadedModel } from '../models/loadModel';
import type { FlopSplit, FlopsPanelData } from '../panels/flopsBars';
import { createOrtReference, type OrtReference } from '../reference/ortReference';
import { buildPlan } from '../techniques/buildPlan';
import type { ActiveTechnique } from '../techniques/types';

export interface RunRequest {
  modelId: string;
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
}

export interface Runner {
  run(request: RunRequest): Promise<RunOutput>;
  readonly lost: Promise<string>;
  dispose(): void;
}

const TOP_K = 8;

interface ActiveModel {
  id: string;
  model: LoadedModel;
  engine: Gpt2Engine;
  reference: OrtReference;
  /** Dense logits of the last position by prompt, so toggling a technique does not rerun the reference. */
  denseCache: Map<string, { probs: Float32Array; ms: number }>;
}

export async function createRunner(): Promise<Runner> {
  const gpu = await requestBrowserDevice();
  const context = new GpuContext(gpu.device);
  const lost = gpu.device.lost.then((info) => `The GPU device was lost (${info.reason}): ${info.message || 'no details'}`);
  let active: ActiveModel | undefined;
  let loading: Promise<ActiveModel> | undefined;

  const modelFor = async (id: string): Promise<ActiveModel> => {
    if (active?.id === id) return active;
    if (loading) {
      const pending = await loading;
      if (pending.id === id) return pending;
    }
    loading = (async () => {
      const model = await loadBundledModel(bundledModelUrl(id));
      const onnx = new Uint8Array(await (await fetch(model.onnxUrl)).arrayBuffer());
      const reference = await createOrtReference(onnx, { provider: 'wasm' });
      const next: ActiveModel = { id, model, engine: new Gpt2Engine(context, model.config, model.weights), reference, denseCache: new Map() };
      if (active) {
        active.engine.destroy();
        void active.reference.dispose();
      }
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
    async run(request) {
      const { model, engine, reference, denseCache } = await modelFor(request.modelId);
      const ids = encode(request.prompt);
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
        const started = performance.now();
        const logits = await reference.logits(ids);
        dense = { probs: softmax(logits.subarray((ids.length - 1) * config.vocab_size)), ms: performance.now() - started };
        denseCache.set(request.prompt, dense);
      }
      return {
        tokenLabels: tokenLabels(ids),
        forward,
        flops: flopsPanelData(countFlops(plan), denseReference(plan)),
        ...compareWithDense(dense.probs, forward.sampleProbs, config.vocab_size),
        denseReference: { provider: `onnxruntime-web ${reference.provider}`, ms: dense.ms },
        adapterDescription: gpu.adapterDescription,
      };
    },
    dispose() {
      active?.engine.destroy();
      void active?.reference.dispose();
      context.pool.destroy();
      gpu.device.destroy();
    },
  };
}

/** Top-k of the current (Monte-Carlo mean) distribution next to the dense one, with KL(dense‖current) and top-1 agreement. */
export function compareWithDense(denseProbs: Float32Array, sampleProbs: Float32Array, vocab: number) {
  const { mean, std } = sampleStatistics(sampleProbs, vocab);
  const order = Array.from(mean.keys()).sort((a, b) => mean[b]! - mean[a]! || a - b);
  const predictions: PredictionRow[] = order.slice(0, TOP_K).map((tokenId) => ({
    tokenId,
    label: decodeToken(tokenId),
    denseProb: denseProbs[tokenId]!,
    currentProb: mean[tokenId]!,
    currentStd: std[tokenId]!,
  }));
  return { predictions, klDenseToCurrent: klDivergence(denseProbs, mean), top1Agrees: order[0] === argmax(denseProbs) };
}

/** The FLOP counter's report as the panel draws it: per layer FLOPs by part, current (all MC samples) next to dense. */
export function flopsPanelData(current: FlopReport, dense: FlopReport): FlopsPanelData {
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
  return {
    layers: [
      ...current.layers.map((_, i) => ({ label: `L${i}`, dense: split(dense, i), current: split(current, i) })),
      { label: 'LM head', dense: { lmHead: 2 * dense.lmHead.macs }, current: { lmHead: 2 * current.samples * current.lmHead.macs } },
    ],
    convention: `${FLOP_CONVENTION}${samples}`,
  };
}
