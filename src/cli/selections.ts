/**
 * Headless selections (README.md, "Headless selections"): runs a bundled model on a prompt with techniques switched
 * on, on a WebGPU device in Node (Dawn), and reports per layer and head the Q and K an estimator read, the key-block
 * lists attention read, the key mask, the density, and the FLOP count of what ran. Generic over the technique
 * registry: any technique id with its parameters. `tools/selections.mjs` is the command line around `runSelections`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpuForward } from '../engine/cpu/cpuForward';
import { GpuContext } from '../engine/gpuContext';
import { nodeDevice } from '../engine/nodeDevice';
import { keyMaskBit, tokenMask, type ExecutionPlan, type KeyBlockLists, type KeySelection } from '../engine/plan';
import { TransformerEngine } from '../engine/transformerEngine';
import { countFlops, denseReference, tilePairs, densePairs, type FlopReport } from '../flops/countFlops';
import { readBundledModel } from '../models/bundledModel.testutil';
import { bundledModels } from '../models/bundledModels';
import { headDim } from '../models/config';
import { createTokenizer } from '../models/tokenizer';
import { buildPlan } from '../techniques/buildPlan';
import { techniqueById, techniques } from '../techniques/registry';
import { defaultParams, type ActiveTechnique, type ParamValues, type Technique } from '../techniques/types';

/** A technique as the command line names it: its id and raw `key=value` strings. */
export interface TechniqueRequest {
  id: string;
  params: Record<string, string>;
}

export interface SelectionsOptions {
  model: string;
  prompt: string;
  techniques: readonly TechniqueRequest[];
  /** Leave out the per-head q and k arrays (--no-qk). */
  includeQk?: boolean;
  /** Folder holding the bundled models (default public/models, relative to the working directory). */
  modelsDir?: string;
}

export class SelectionsError extends Error {
  override name = 'SelectionsError';
}

export interface HeadReport {
  head: number;
  /** [tokens][headDim], 6 significant digits; absent with includeQk false. */
  q?: number[][];
  k?: number[][];
  /** Per query block, the ascending key blocks attention read (the estimator's choice, else the planned lists). */
  keyBlocks: number[][];
  /** Per query row, the keys whose bit the key mask sets; absent when the layer has no key mask. */
  keyMask?: number[][];
  executedPairs: number;
  usefulPairs: number;
  densePairs: number;
  /** usefulPairs / densePairs. */
  density: number;
}

export interface LayerReport {
  layer: number;
  tokens: number;
  bidirectionalPrefix: number;
  tokenWindow: { sinks: number; window: number } | null;
  /** The technique whose GPU estimator chose this layer's lists, or null. */
  estimator: string | null;
  /** The tiles the estimator computes whatever its estimate says (BlockEstimator.forced); absent without one. */
  forced?: number[][][];
  heads: HeadReport[];
  flops: {
    executedPairs: number;
    usefulPairs: number;
    densePairs: number;
    attentionDensity: number;
    macs: FlopReport['layers'][number]['macs'];
    macsTotal: number;
    usefulMacsTotal: number;
    overhead: FlopReport['layers'][number]['overhead'];
    flops: number;
  };
}

export interface SelectionMismatch {
  layer: number;
  head: number | null;
  what: string;
}

export interface SelectionsReport {
  model: string;
  prompt: string;
  /** Token labels, one per id. */
  tokens: string[];
  ids: number[];
  techniques: ActiveTechnique[];
  blockSize: number;
  layers: LayerReport[];
  flops: {
    /** countFlops(result.plan) totals for one forward pass. */
    perSample: FlopReport['perSample'];
    /** The same model and input with no technique. */
    denseReference: FlopReport['perSample'];
    /** perSample.flops / denseReference.flops. */
    flopRatio: number;
    executedPairs: number;
    usefulPairs: number;
    densePairs: number;
    attentionDensity: number;
  };
  /** The CPU forward's estimator twins against what the GPU chose: `agree` false lists every difference. */
  selectionCheck: { agree: boolean; estimatedLayers: number[]; mismatches: SelectionMismatch[] };
  device: { timestampQuery: boolean };
}

/** The technique list with parameters parsed and checked against the registry's specs (defaults for the rest). */
export function resolveTechniques(requests: readonly TechniqueRequest[]): ActiveTechnique[] {
  return requests.map(({ id, params }) => {
    const technique = techniqueById(id);
    if (!technique) throw new SelectionsError(`unknown technique "${id}" (registered: ${techniques.map((t) => t.id).join(', ')})`);
    const values: ParamValues = defaultParams(technique);
    for (const [key, raw] of Object.entries(params)) values[key] = parseParam(technique, key, raw);
    return { id, params: values };
  });
}

function parseParam(technique: Technique, key: string, raw: string): number | string {
  const spec = technique.params.find((p) => p.key === key);
  const valid = () => technique.params.map((p) => (p.kind === 'choice' ? `${p.key}=${p.options.map((o) => o.value).join('|')}` : `${p.key} (${p.kind} ${p.min}…${p.max})`)).join(', ');
  if (!spec) throw new SelectionsError(`${technique.id} has no parameter "${key}" (its parameters: ${valid() || 'none'})`);
  if (spec.kind === 'choice') {
    if (!spec.options.some((o) => o.value === raw)) {
      throw new SelectionsError(`${technique.id}: ${key}=${raw} is not one of ${spec.options.map((o) => o.value).join(', ')}`);
    }
    return raw;
  }
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || (spec.kind === 'int' && !Number.isInteger(value))) {
    throw new SelectionsError(`${technique.id}: ${key}=${raw} must be ${spec.kind === 'int' ? 'an integer' : 'a number'} in ${spec.min}…${spec.max}`);
  }
  if (value < spec.min || value > spec.max) throw new SelectionsError(`${technique.id}: ${key}=${raw} is outside ${spec.min}…${spec.max}`);
  return value;
}

/** Rounds to 6 significant digits (keeps the JSON small and readable). */
function round6(x: number): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(6));
}

/** Head h's q (part 0) or k (part 1) of a layer's qkv [tokens, 3C] as rows [tokens][headDim]. */
export function headSlice(qkv: Float32Array, tokens: number, channels: number, dim: number, head: number, part: 0 | 1): number[][] {
  return Array.from({ length: tokens }, (_, i) => {
    const start = i * 3 * channels + part * channels + head * dim;
    return Array.from(qkv.subarray(start, start + dim), round6);
  });
}

function sameLists(a: KeyBlockLists, b: KeyBlockLists, head: number): boolean {
  const x = a[head] ?? [];
  const y = b[head] ?? [];
  return x.length === y.length && x.every((keys, q) => keys.length === y[q]?.length && keys.every((k, i) => k === y[q]![i]));
}

/** Every difference between the GPU's selections (result.plan) and the CPU twins'. */
export function compareSelections(gpuPlan: ExecutionPlan, cpuSelections: ReadonlyMap<number, KeySelection>): SelectionMismatch[] {
  const mismatches: SelectionMismatch[] = [];
  for (const layer of gpuPlan.layers) {
    if (!layer.estimator) continue;
    const gpu = layer.selection;
    const cpu = cpuSelections.get(layer.index);
    if (!gpu || !cpu) {
      mismatches.push({ layer: layer.index, head: null, what: `${gpu ? '' : 'no GPU selection'}${!gpu && !cpu ? ', ' : ''}${cpu ? '' : 'no CPU selection'}` });
      continue;
    }
    for (let h = 0; h < gpuPlan.config.n_head; h++) {
      if (!sameLists(gpu.keyBlocks, cpu.keyBlocks, h)) mismatches.push({ layer: layer.index, head: h, what: 'key-block lists differ' });
    }
    if (!gpu.keyMask !== !cpu.keyMask) {
      mismatches.push({ layer: layer.index, head: null, what: `key mask on ${gpu.keyMask ? 'the GPU' : 'the CPU'} only` });
    } else if (gpu.keyMask && cpu.keyMask) {
      const a = gpu.keyMask.bits;
      const b = cpu.keyMask.bits;
      let differing = 0;
      for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) differing++;
      if (gpu.keyMask.perHead !== cpu.keyMask.perHead || differing > 0) {
        mismatches.push({ layer: layer.index, head: null, what: `key masks differ (${differing} of ${Math.max(a.length, b.length)} words)` });
      }
    }
  }
  return mismatches;
}

/** Per query row, the keys whose bit is set in a layer's key mask for `head`. */
function maskRows(selection: KeySelection, tokens: number, head: number): number[][] | undefined {
  const mask = selection.keyMask;
  if (!mask) return undefined;
  return Array.from({ length: tokens }, (_, i) => {
    const keys: number[] = [];
    for (let j = 0; j < tokens; j++) if (keyMaskBit(mask, tokens, head, i, j)) keys.push(j);
    return keys;
  });
}

/** Runs the model on the GPU and its CPU twin on the same plan, and builds the report. */
export async function runSelections(options: SelectionsOptions): Promise<SelectionsReport> {
  const modelsDir = options.modelsDir ?? 'public/models';
  const known = bundledModels.map((m) => m.id);
  if (!existsSync(`${modelsDir}/${options.model}/config.json`)) {
    throw new SelectionsError(`unknown model "${options.model}" (bundled: ${known.join(', ')})`);
  }
  const active = resolveTechniques(options.techniques);
  const files = readBundledModel(options.model, modelsDir);
  const { config, weights } = files;
  if (config.image) {
    throw new SelectionsError(`${options.model} is an image model; the selections CLI supports text language models (${known.filter((id) => id !== options.model).join(', ')})`);
  }
  const optionalJson = (file: string) => (existsSync(`${files.folder}/${file}`) ? files.readJson(file) : undefined);
  const tokenizer = createTokenizer(optionalJson('tokenizer.json'), optionalJson('tokenizer_config.json'), config.vocab_size);
  const text = options.prompt;
  const ids = tokenizer.encode(text);
  if (ids.length === 0) throw new SelectionsError('the prompt is empty');
  const limit = Math.min(config.n_positions, config.maxTextTokens);
  if (ids.length > limit) throw new SelectionsError(`the prompt is ${ids.length} tokens long; ${options.model} takes at most ${limit}`);
  const plan = buildPlan(config, config.imageTokens + ids.length, active, { logitsRows: 'last' });

  const context = new GpuContext(await nodeDevice());
  const engine = new TransformerEngine(context, config, weights);
  let ran: ExecutionPlan;
  try {
    ran = (await engine.forward(plan, ids)).plan;
  } finally {
    engine.destroy();
  }
  const includeQk = options.includeQk ?? true;
  const cpu = cpuForward(config, weights, plan, ids, 0, undefined, { captureQkv: includeQk });
  const mismatches = compareSelections(ran, cpu.selections);

  const report = countFlops(ran);
  const dense = denseReference(ran);
  const dim = headDim(config);
  const layers: LayerReport[] = ran.layers.map((layer) => {
    const lists = layer.selection?.keyBlocks ?? layer.keyBlocks;
    const mask = tokenMask(config, layer);
    const qkv = cpu.qkv.get(layer.index);
    const flops = report.layers[layer.index]!;
    const heads: HeadReport[] = Array.from({ length: config.n_head }, (_, h) => {
      let executed = 0;
      let useful = 0;
      (lists[h] ?? []).forEach((keys, q) => {
        for (const k of keys) {
          const pairs = tilePairs(q, k, ran.blockSize, mask, h);
          executed += pairs.executed;
          useful += pairs.useful;
        }
      });
      const densePerHead = densePairs(layer.tokens, layer.bidirectionalPrefix);
      const keyMask = layer.selection ? maskRows(layer.selection, layer.tokens, layer.selection.keyMask?.perHead ? h : 0) : undefined;
      return {
        head: h,
        ...(includeQk && qkv ? { q: headSlice(qkv, layer.tokens, config.n_embd, dim, h, 0), k: headSlice(qkv, layer.tokens, config.n_embd, dim, h, 1) } : {}),
        keyBlocks: (lists[h] ?? []).map((keys) => [...keys]),
        ...(keyMask ? { keyMask } : {}),
        executedPairs: executed,
        usefulPairs: useful,
        densePairs: densePerHead,
        density: useful / densePerHead,
      };
    });
    return {
      layer: layer.index,
      tokens: layer.tokens,
      bidirectionalPrefix: layer.bidirectionalPrefix,
      tokenWindow: layer.tokenWindow,
      estimator: layer.estimator?.technique ?? null,
      ...(layer.estimator ? { forced: layer.estimator.forced.map((head) => head.map((keys) => [...keys])) } : {}),
      heads,
      flops: {
        executedPairs: flops.executedPairs,
        usefulPairs: flops.usefulPairs,
        densePairs: flops.densePairs,
        attentionDensity: flops.attentionDensity,
        macs: flops.macs,
        macsTotal: flops.macsTotal,
        usefulMacsTotal: flops.usefulMacsTotal,
        overhead: flops.overhead,
        flops: flops.flops,
      },
    };
  });

  return {
    model: options.model,
    prompt: text,
    tokens: ids.map((id) => tokenizer.tokenLabel(id)),
    ids,
    techniques: active,
    blockSize: ran.blockSize,
    layers,
    flops: {
      perSample: report.perSample,
      denseReference: dense.perSample,
      flopRatio: report.perSample.flops / dense.perSample.flops,
      executedPairs: report.executedPairs,
      usefulPairs: report.usefulPairs,
      densePairs: report.densePairs,
      attentionDensity: report.attentionDensity,
    },
    selectionCheck: {
      agree: mismatches.length === 0,
      estimatedLayers: ran.layers.filter((l) => l.estimator).map((l) => l.index),
      mismatches,
    },
    device: { timestampQuery: context.hasTimestampQuery },
  };
}

/** The prompt file's text (a trailing newline, which editors add, is dropped). */
export function readPromptFile(path: string): string {
  if (!existsSync(path)) throw new SelectionsError(`no prompt file ${path}`);
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}
