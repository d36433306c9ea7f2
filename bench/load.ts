/**
 * Model-load benchmark page: for every bundled model, how long the app's loader takes from the network (cold) and
 * from the Cache API (warm), and how long a freshly loaded model takes to become usable on the GPU (engine ready).
 *
 * Per model and repetition, in this order:
 *   cold    delete this page's Cache API cache, then `loadModel({kind: 'bundled', name}, {cache})`: every file comes
 *           from the Vite server (fetched with cache: 'no-store', so the browser's HTTP cache cannot answer either —
 *           a first visit), is hashed against the manifest, stored in the Cache API and parsed.
 *   warm    the same call with a fresh cache object on the same (now filled) cache: a second visit. It must make zero
 *           network requests for the model's own files (manifest.json is always revalidated, so it is fetched);
 *           counted by the loader's fetch and, independently, by PerformanceResourceTiming (run.mjs cross-checks
 *           with Playwright's request events).
 *   engine  `new TransformerEngine(new GpuContext(device), config, weights)` plus the first dense forward
 *           (weights upload, pipeline compilation, one forward, logits read back): the time until the first answer.
 *           A second forward on the same engine is timed too, to separate one-off costs from the forward itself.
 *
 * Query string (all optional):
 *   reps=3               repetitions per model (medians are reported)
 *   models=a,b           models to measure (default: every model in models/manifest.json, in its order)
 *   T=16                 tokens of a text model's first forward (deterministic ids); image models use eval item 0
 *   callTimeout=300      seconds one load or forward may take before the model is marked failed
 *
 * Results: window.__benchResult (LoadBenchResult, JSON-serialisable) and a table in the DOM. The page uses its own
 * Cache API cache (BENCH_CACHE_NAME), so opening it by hand never empties the app's model cache.
 */
import { describeAdapter, requestBrowserDevice } from '../src/engine/gpu';
import { GpuContext } from '../src/engine/gpuContext';
import { TransformerEngine } from '../src/engine/transformerEngine';
import { vitEvalItems, vqaEvalItems } from '../src/eval/imageHarness';
import { pixelValues } from '../src/models/image';
import { loadModel, type LoadedModel } from '../src/models/loadModel';
import { createModelFileCache } from '../src/models/modelCache';
import type { Manifest } from '../src/models/modelFiles';
import { buildPlan } from '../src/techniques/buildPlan';
import { describeError, log, showFailure, statusEl, tableEl } from './page';

export const BENCH_CACHE_NAME = 'sparsity-playground-bench-load';

export interface LoadRun {
  /** Wall clock of the awaited loadModel call. */
  ms: number;
  /** URL paths the loader fetched from the network, in order (manifest.json included). */
  requests: string[];
  /** How many of those were the model's own files (under models/<name>/). Must be 0 for a warm load. */
  modelFileRequests: number;
  /** PerformanceResourceTiming entries under models/<name>/ during the load: a count independent of our fetch. */
  resourceEntries: number;
  /** Sum of those entries' encodedBodySize: bytes of model files over the wire. */
  resourceBodyBytes: number;
}

export interface EngineRun {
  /** new GpuContext + new TransformerEngine (weights queued for upload; the GPU work happens in the forward). */
  constructMs: number;
  /** Engine ready: construction plus the first dense forward, until its logits are on the CPU. */
  readyMs: number;
  /** A second forward on the same engine: the forward alone, pipelines compiled and weights resident. */
  secondForwardMs: number;
  /** Argmax of the output row of the first forward, and whether the two forwards agreed bit for bit. */
  argmax: number;
  deterministic: boolean;
  /** WebGPU errors raised during construction and both forwards (any means the numbers are suspect). */
  gpuErrors: string[];
}

export interface ModelResult {
  name: string;
  ok: boolean;
  error?: string;
  /** Things that make a number untrustworthy (warm load hit the network, WebGPU errors, non-finite logits…). */
  problems: string[];
  kind?: 'text' | 'image classifier' | 'vlm';
  /** Files a cold load fetched (names inside the model folder) and their manifest sizes summed. */
  files: string[];
  bytes: number | null;
  /** Tokens of the engine's forward (image tokens + text tokens). */
  inputTokens?: number;
  cold: LoadRun[];
  warm: LoadRun[];
  engine: EngineRun[];
  median: {
    coldMs: number | null;
    warmMs: number | null;
    /** median warm / median cold: below 1 means the cache helps. */
    warmOverCold: number | null;
    readyMs: number | null;
    constructMs: number | null;
    secondForwardMs: number | null;
  };
}

export interface LoadBenchResult {
  page: 'load';
  ok: boolean;
  error?: string;
  startedAt: string;
  finishedAt?: string;
  userAgent: string;
  adapter?: { description: string; isCpuAdapter: boolean; features: string[] };
  settings: LoadSettings;
  cacheName: string;
  models: ModelResult[];
  /** Uncaptured WebGPU errors on the device during the whole run (first 20). */
  uncapturedErrors: string[];
  uncapturedErrorCount: number;
  totalSeconds?: number;
}

interface LoadSettings {
  reps: number;
  models: string[] | null;
  textTokens: number;
  callTimeoutS: number;
}

function readSettings(): LoadSettings {
  const q = new URLSearchParams(location.search);
  const int = (name: string, fallback: number, min: number) => {
    const raw = q.get(name);
    const value = raw === null ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`query parameter ${name}=${raw} must be an integer ≥ ${min}`);
    return value;
  };
  const known = new Set(['reps', 'models', 'T', 'callTimeout']);
  const unknown = [...q.keys()].filter((k) => !known.has(k));
  if (unknown.length) throw new Error(`unknown query parameter(s) ${unknown.join(', ')} (this page takes ${[...known].join(', ')})`);
  const models = q.get('models');
  return {
    reps: int('reps', 3, 1),
    models: models ? models.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : null,
    textTokens: int('T', 16, 1),
    callTimeoutS: int('callTimeout', 300, 1),
  };
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function withTimeout<T>(promise: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${seconds} s (callTimeout)`)), seconds * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function pathOf(input: RequestInfo | URL): string {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  return new URL(url, location.href).pathname;
}

/** The page's fetch, recording every path and bypassing the HTTP cache, so a cold load is a first visit. */
function recordingFetch(requests: string[]): typeof fetch {
  return (input, init) => {
    requests.push(pathOf(input));
    return fetch(input, { ...init, cache: 'no-store' });
  };
}

/** models/<name>/ as the loader requests it (bundledRoot defaults to the page's BASE_URL + "models"). */
function modelFolder(name: string): string {
  return `/models/${name}/`;
}

async function timedLoad(name: string, settings: LoadSettings): Promise<{ run: LoadRun; model: LoadedModel }> {
  const requests: string[] = [];
  const cache = createModelFileCache(await caches.open(BENCH_CACHE_NAME));
  performance.clearResourceTimings();
  const started = performance.now();
  const model = await withTimeout(loadModel({ kind: 'bundled', name }, { cache, fetch: recordingFetch(requests) }), settings.callTimeoutS, `loading ${name}`);
  const ms = performance.now() - started;
  const folder = modelFolder(name);
  const entries = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((e) => pathOf(e.name).includes(folder));
  return {
    model,
    run: {
      ms,
      requests,
      modelFileRequests: requests.filter((p) => p.includes(folder)).length,
      resourceEntries: entries.length,
      resourceBodyBytes: entries.reduce((sum, e) => sum + e.encodedBodySize, 0),
    },
  };
}

interface EngineInput {
  ids: number[];
  pixels?: Float32Array;
}

/** What the first forward runs on: deterministic text ids, or an image model's first eval item. */
function engineInput(model: LoadedModel, textTokens: number): EngineInput {
  const { config } = model;
  if (!config.image) {
    const T = Math.min(textTokens, config.n_positions);
    return { ids: Array.from({ length: T }, (_, i) => (i * 31 + 7) % config.vocab_size) };
  }
  if (!model.evalSet) throw new Error(`${model.name} is an image model without eval.json: no image to run its first forward on`);
  const items = config.labels ? vitEvalItems(model.evalSet) : vqaEvalItems(model.evalSet);
  const item = items[0];
  if (!item) throw new Error(`${model.name}'s eval.json has no items`);
  return { ids: item.ids, pixels: pixelValues(item.image, config.image) };
}

async function engineReady(device: GPUDevice, model: LoadedModel, input: EngineInput, settings: LoadSettings): Promise<EngineRun> {
  const { config, weights } = model;
  const plan = buildPlan(config, config.imageTokens + input.ids.length, []);
  const options = input.pixels ? { pixels: input.pixels } : {};
  const scopes = ['validation', 'out-of-memory', 'internal'] as const;
  for (const scope of scopes) device.pushErrorScope(scope);
  let context: GpuContext | undefined;
  let engine: TransformerEngine | undefined;
  let thrown: unknown;
  let run: Omit<EngineRun, 'gpuErrors'> | undefined;
  try {
    const started = performance.now();
    context = new GpuContext(device);
    engine = new TransformerEngine(context, config, weights);
    const constructed = performance.now();
    const first = await withTimeout(engine.forward(plan, input.ids, options), settings.callTimeoutS, `${model.name}'s first forward`);
    const ready = performance.now();
    const second = await withTimeout(engine.forward(plan, input.ids, options), settings.callTimeoutS, `${model.name}'s second forward`);
    const secondDone = performance.now();
    const row = first.logits.subarray(first.logits.length - config.vocab_size);
    if (!row.every(Number.isFinite)) throw new Error(`${model.name}'s first forward returned non-finite logits`);
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
    const deterministic = first.logits.length === second.logits.length && first.logits.every((v, i) => v === second.logits[i]);
    run = { constructMs: constructed - started, readyMs: ready - started, secondForwardMs: secondDone - ready, argmax: best, deterministic };
  } catch (error) {
    thrown = error;
  }
  const gpuErrors = (await Promise.all(scopes.map(() => device.popErrorScope())))
    .filter((e): e is GPUError => e !== null)
    .map((e) => e.message.split('\n')[0]!.trim());
  engine?.destroy();
  context?.pool.destroy();
  if (thrown !== undefined) {
    throw new Error(`${describeError(thrown)}${gpuErrors.length ? `; WebGPU errors: ${gpuErrors.join(' | ')}` : ''}`, { cause: thrown });
  }
  return { ...run!, gpuErrors };
}

function emptyModelResult(name: string): ModelResult {
  return {
    name, ok: false, problems: [], files: [], bytes: null, cold: [], warm: [], engine: [],
    median: { coldMs: null, warmMs: null, warmOverCold: null, readyMs: null, constructMs: null, secondForwardMs: null },
  };
}

async function measureModel(name: string, manifest: Manifest, device: GPUDevice, settings: LoadSettings, result: ModelResult): Promise<void> {
  const folder = modelFolder(name);
  for (let rep = 1; rep <= settings.reps; rep++) {
    const label = `${name} rep ${rep}/${settings.reps}`;
    statusEl.textContent = `${label}: cold load…`;
    if (!(await caches.delete(BENCH_CACHE_NAME)) && (await caches.has(BENCH_CACHE_NAME))) throw new Error(`could not delete the Cache API cache "${BENCH_CACHE_NAME}"`);
    const cold = await timedLoad(name, settings);
    result.cold.push(cold.run);
    if (cold.model.notices.length) result.problems.push(`rep ${rep} cold: ${cold.model.notices.join(' ')}`);
    if (rep === 1) {
      result.files = cold.run.requests.filter((p) => p.includes(folder)).map((p) => p.slice(p.indexOf(folder) + folder.length));
      const sizes = manifest.models[name]?.files ?? {};
      const missing = result.files.filter((f) => !sizes[f]);
      result.bytes = missing.length ? null : result.files.reduce((sum, f) => sum + sizes[f]!.size, 0);
      if (missing.length) result.problems.push(`fetched files not in the manifest: ${missing.join(', ')}`);
      const { config } = cold.model;
      result.kind = !config.image ? 'text' : config.labels ? 'image classifier' : 'vlm';
    }
    if (cold.run.modelFileRequests === 0) result.problems.push(`rep ${rep}: the cold load fetched none of ${name}'s files (was the cache really empty?)`);
    log(`${label}: cold ${cold.run.ms.toFixed(1)} ms, ${cold.run.modelFileRequests} model-file requests (${cold.run.resourceEntries} resource entries, ${(cold.run.resourceBodyBytes / 1e6).toFixed(2)} MB over the wire)`);

    statusEl.textContent = `${label}: warm load…`;
    const warm = await timedLoad(name, settings);
    result.warm.push(warm.run);
    if (warm.run.modelFileRequests !== 0 || warm.run.resourceEntries !== 0) {
      result.problems.push(
        `rep ${rep}: the warm load made ${warm.run.modelFileRequests} model-file request(s) through its fetch and ${warm.run.resourceEntries} resource-timing entr(ies) under ${folder}: it was not served from the Cache API (${warm.run.requests.join(', ')})`,
      );
    }
    log(`${label}: warm ${warm.run.ms.toFixed(1)} ms, ${warm.run.modelFileRequests} model-file requests (${warm.run.resourceEntries} resource entries); other requests: ${warm.run.requests.filter((p) => !p.includes(folder)).join(', ') || 'none'}`);

    statusEl.textContent = `${label}: engine ready…`;
    const input = engineInput(warm.model, settings.textTokens);
    result.inputTokens = warm.model.config.imageTokens + input.ids.length;
    const engine = await engineReady(device, warm.model, input, settings);
    result.engine.push(engine);
    if (engine.gpuErrors.length) result.problems.push(`rep ${rep}: WebGPU errors during the engine's forward: ${engine.gpuErrors.join(' | ')}`);
    if (!engine.deterministic) result.problems.push(`rep ${rep}: the engine's first and second forward gave different logits`);
    const firstArgmax = result.engine[0]!.argmax;
    if (engine.argmax !== firstArgmax) result.problems.push(`rep ${rep}: output argmax ${engine.argmax} differs from rep 1's ${firstArgmax}`);
    log(`${label}: engine ready ${engine.readyMs.toFixed(1)} ms (construct ${engine.constructMs.toFixed(1)} ms), second forward ${engine.secondForwardMs.toFixed(1)} ms, ${result.inputTokens} tokens, argmax ${engine.argmax}`);
  }
  await caches.delete(BENCH_CACHE_NAME);
  const coldMs = median(result.cold.map((r) => r.ms));
  const warmMs = median(result.warm.map((r) => r.ms));
  result.median = {
    coldMs,
    warmMs,
    warmOverCold: coldMs !== null && warmMs !== null && coldMs > 0 ? warmMs / coldMs : null,
    readyMs: median(result.engine.map((r) => r.readyMs)),
    constructMs: median(result.engine.map((r) => r.constructMs)),
    secondForwardMs: median(result.engine.map((r) => r.secondForwardMs)),
  };
  result.ok = result.problems.length === 0;
}

async function fetchManifest(): Promise<Manifest> {
  const url = `${import.meta.env.BASE_URL}models/manifest.json`;
  const response = await fetch(url, { cache: 'no-store' }).catch((error: unknown) => {
    throw new Error(`fetching ${url} failed (${describeError(error)})`);
  });
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
  const manifest = (await response.json().catch(() => null)) as Manifest | null;
  if (!manifest || typeof manifest.models !== 'object' || manifest.models === null) throw new Error(`${url} is not a model manifest`);
  return manifest;
}

function render(result: LoadBenchResult): void {
  const fmt = (v: number | null, digits = 1) => (v === null ? '—' : v.toFixed(digits));
  const header = ['model', 'MB', 'cold ms', 'warm ms', 'warm/cold', 'engine ready ms', 'second forward ms', 'status'];
  const table = document.createElement('table');
  const thead = table.createTHead().insertRow();
  for (const h of header) thead.appendChild(Object.assign(document.createElement('th'), { textContent: h }));
  const body = table.createTBody();
  for (const m of result.models) {
    const tr = body.insertRow();
    const status = m.error ? `failed: ${m.error}` : m.problems.length ? `${m.problems.length} problem(s)` : 'ok';
    for (const c of [m.name, m.bytes === null ? '—' : (m.bytes / 1e6).toFixed(2), fmt(m.median.coldMs), fmt(m.median.warmMs), fmt(m.median.warmOverCold, 3), fmt(m.median.readyMs), fmt(m.median.secondForwardMs), status]) {
      tr.insertCell().textContent = c;
    }
  }
  tableEl.replaceChildren(table);
}

async function main(): Promise<void> {
  const started = performance.now();
  const result: LoadBenchResult = {
    page: 'load',
    ok: false,
    startedAt: new Date().toISOString(),
    userAgent: navigator.userAgent,
    settings: undefined as unknown as LoadSettings,
    cacheName: BENCH_CACHE_NAME,
    models: [],
    uncapturedErrors: [],
    uncapturedErrorCount: 0,
  };
  try {
    result.settings = readSettings();
    const settings = result.settings;
    if (!globalThis.caches) throw new Error('this page has no Cache API (it needs a secure context: https or localhost)');
    // Every load's resource entries are read before the next load clears them; a big buffer keeps none from being dropped.
    performance.setResourceTimingBufferSize(10_000);

    statusEl.textContent = 'requesting a WebGPU device…';
    const gpu = await requestBrowserDevice();
    const { device } = gpu;
    result.adapter = { description: describeAdapter(device.adapterInfo), isCpuAdapter: gpu.isCpuAdapter, features: [...device.features].sort() };
    log(`adapter: ${result.adapter.description} (cpu adapter: ${gpu.isCpuAdapter})`);
    device.addEventListener('uncapturederror', (event) => {
      result.uncapturedErrorCount++;
      if (result.uncapturedErrors.length < 20) result.uncapturedErrors.push((event as GPUUncapturedErrorEvent).error.message.split('\n')[0]!.trim());
    });
    // The page destroys the device itself when done ('destroyed'); any other loss mid-run is worth a line.
    void device.lost.then((info) => {
      if (info.reason !== 'destroyed') log(`the GPU device was lost: ${info.reason} ${info.message}`);
    });

    const manifest = await fetchManifest();
    const bundled = Object.keys(manifest.models);
    const names = settings.models ?? bundled;
    const unknown = names.filter((n) => !bundled.includes(n));
    if (unknown.length) throw new Error(`not bundled: ${unknown.join(', ')} (models/manifest.json has ${bundled.join(', ')})`);
    if (names.length === 0) throw new Error('no models to measure');
    log(`models: ${names.join(', ')}; ${settings.reps} rep(s) each; cache "${BENCH_CACHE_NAME}"`);

    for (const name of names) {
      const model = emptyModelResult(name);
      result.models.push(model);
      try {
        await measureModel(name, manifest, device, settings, model);
      } catch (error) {
        model.ok = false;
        model.error = describeError(error);
        log(`${name}: FAILED ${model.error}`);
        await caches.delete(BENCH_CACHE_NAME).catch(() => false);
      }
      for (const problem of model.problems) log(`${name}: PROBLEM ${problem}`);
      render(result);
    }
    if (result.uncapturedErrorCount > 0) log(`WARNING: ${result.uncapturedErrorCount} uncaptured WebGPU error(s): ${result.uncapturedErrors.join(' | ')}`);
    result.ok = result.models.every((m) => m.ok) && result.uncapturedErrorCount === 0;
    if (!result.ok) result.error = `${result.models.filter((m) => !m.ok).map((m) => m.name).join(', ') || 'the device'}: see the problems and errors above`;
    statusEl.textContent = result.ok ? 'done' : `done, with problems: ${result.error}`;
    device.destroy();
  } catch (error) {
    result.error = showFailure(error);
  }
  result.finishedAt = new Date().toISOString();
  result.totalSeconds = (performance.now() - started) / 1000;
  // bench.ts declares window.__benchResult with its own type; this page writes the same global with another shape.
  (window as unknown as { __benchResult?: LoadBenchResult }).__benchResult = JSON.parse(JSON.stringify(result)) as LoadBenchResult;
}

void main();
