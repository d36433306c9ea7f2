/**
 * Dense-forward benchmark page: our WGSL engine vs onnxruntime-web (wasm and webgpu providers) on the same model,
 * the same token ids, timed the same way (wall clock around the awaited call that hands logits back on the CPU).
 *
 * Query string (all optional):
 *   T=64,256,1024        sequence lengths
 *   reps=5               timed repetitions for T < largeFrom
 *   repsLarge=3          timed repetitions for T >= largeFrom
 *   largeFrom=512
 *   warmup=1             untimed warm-up runs per (provider, T)
 *   budget=60            seconds per (provider, T) cell, warm-up included; past it the remaining reps are skipped
 *   callTimeout=300      seconds one call may take before the provider is declared hung (and skipped from then on)
 *   providers=engine,wasm,webgpu
 *   seed=1               seed of the pseudo-random byte ids
 *   engineRows=last      logit rows the engine computes: last (the app's choice) or all (ORT's export always does all)
 *   model=tiny-random-gpt2
 *   probe=1              only request an adapter and report it (window.__benchProbe), no model, no timing
 *
 * Results: window.__benchResult (BenchResult, JSON-serialisable) and a table in the DOM.
 */
import * as ort from 'onnxruntime-web';
import { TransformerEngine } from '../src/engine/transformerEngine';
import { describeAdapter, requestBrowserDevice } from '../src/engine/gpu';
import { GpuContext } from '../src/engine/gpuContext';
import type { TimingMethod } from '../src/engine/result';
import type { TransformerConfig } from '../src/models/config';
import type { TransformerWeights } from '../src/models/modelWeights';
import { loadModel } from '../src/models/loadModel';
import { createOrtReference, type OrtReference } from '../src/reference/ortReference';
import { buildPlan } from '../src/techniques/buildPlan';
import { describeError, log, showFailure, statusEl, tableEl } from './page';

type ProviderId = 'engine' | 'ortWasm' | 'ortWebgpu';

const PROVIDER_LABEL: Record<ProviderId, string> = {
  engine: 'engine (ours, WebGPU)',
  ortWasm: 'ORT wasm',
  ortWebgpu: 'ORT webgpu',
};

export type CellStatus = 'ok' | 'truncated' | 'failed' | 'skipped';

export interface Cell {
  status: CellStatus;
  /** Why the cell is not 'ok' (budget hit, error, provider unavailable). */
  note?: string;
  warmupMs: number[];
  /** Wall clock per timed run, ms: performance.now() around the awaited call that returns logits on the CPU. */
  runsMs: number[];
  medianMs: number | null;
  p90Ms: number | null;
  minMs: number | null;
  /** Engine only: its own per-forward timing (GPU timestamps when the device has timestamp-query). */
  engineTimingMs?: number[];
  engineTimingMethod?: TimingMethod;
  engineTimingMedianMs?: number | null;
}

export interface Row {
  T: number;
  cells: Record<ProviderId, Cell>;
  /** max |Δ| of the last position's logits, each compared with ORT wasm's. Null where either side failed. */
  maxAbsDiff: { engineVsOrtWasm: number | null; ortWebgpuVsOrtWasm: number | null };
  /** Index of the largest logit of the last row: a second, coarse check that the work is the same. */
  argmax: { engine: number | null; ortWasm: number | null; ortWebgpu: number | null };
}

export interface AdapterReport {
  description: string;
  isCpuAdapter: boolean;
  vendor?: string;
  architecture?: string;
  device?: string;
  adapterDescription?: string;
  isFallbackAdapter?: boolean;
  features: string[];
}

export interface BenchResult {
  ok: boolean;
  error?: string;
  startedAt: string;
  finishedAt?: string;
  userAgent: string;
  crossOriginIsolated: boolean;
  adapter?: AdapterReport;
  /** The adapter ORT's webgpu provider chose for itself (it does not share our device). */
  ortWebgpuAdapter?: AdapterReport | null;
  ortVersion?: string;
  model?: { name: string; n_layer: number; n_head: number; n_embd: number; vocab_size: number; n_positions: number };
  settings: Settings;
  rows: Row[];
  totalSeconds?: number;
  /** The device the engine was timed on, and WebGPU errors it raised (any error means its numbers are suspect). */
  engineDevice?: EngineDeviceReport;
}

export interface EngineDeviceReport {
  timestampQuery: boolean;
  /** Validation errors of a one-off checked forward on the app's device (requestBrowserDevice), if any. */
  appDeviceErrors: string[];
  /** True when those errors made the bench time the engine on a device without timestamp-query instead. */
  fellBackToNoTimestamps: boolean;
  /** Uncaptured WebGPU errors seen on the timed device during the whole run (first 20). */
  uncapturedErrors: string[];
  uncapturedErrorCount: number;
}

interface Settings {
  tokens: number[];
  reps: number;
  repsLarge: number;
  largeFrom: number;
  warmup: number;
  budgetS: number;
  callTimeoutS: number;
  providers: ProviderId[];
  seed: number;
  model: string;
  ortWasmThreads: number;
  /** Logit rows the engine computes and reads back: 'last' (default, what the app does) or 'all' (what ORT does). */
  engineRows: 'last' | 'all';
}

declare global {
  interface Window {
    __benchResult?: BenchResult;
    __benchProbe?: { ok: boolean; adapter?: AdapterReport; error?: string };
  }
}

function readSettings(): Settings {
  const q = new URLSearchParams(location.search);
  const int = (name: string, fallback: number, min = 0) => {
    const raw = q.get(name);
    const value = raw === null ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`query parameter ${name}=${raw} must be a number ≥ ${min}`);
    return value;
  };
  const tokens = (q.get('T') ?? '64,256,1024').split(',').map((s) => Number(s.trim()));
  if (tokens.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`query parameter T=${q.get('T')} must list positive integers`);
  const aliases: Record<string, ProviderId> = { engine: 'engine', wasm: 'ortWasm', ortwasm: 'ortWasm', webgpu: 'ortWebgpu', ortwebgpu: 'ortWebgpu' };
  const providers = (q.get('providers') ?? 'engine,wasm,webgpu').split(',').map((s) => {
    const id = aliases[s.trim().toLowerCase()];
    if (!id) throw new Error(`unknown provider "${s}" (use engine, wasm, webgpu)`);
    return id;
  });
  return {
    tokens,
    reps: int('reps', 5, 1),
    repsLarge: int('repsLarge', 3, 1),
    largeFrom: int('largeFrom', 512, 1),
    warmup: int('warmup', 1, 0),
    budgetS: int('budget', 60, 1),
    callTimeoutS: int('callTimeout', 300, 1),
    providers: [...new Set(providers)],
    seed: int('seed', 1),
    model: q.get('model') ?? 'tiny-random-gpt2',
    ortWasmThreads: 1,
    engineRows: engineRows(q.get('engineRows')),
  };
}

function engineRows(raw: string | null): 'last' | 'all' {
  if (raw === null || raw === 'last' || raw === 'all') return raw ?? 'last';
  throw new Error(`query parameter engineRows=${raw} must be last or all`);
}

/** Deterministic byte ids (mulberry32), so every provider and every run sees the same input. */
export function pseudoRandomIds(count: number, vocab: number, seed: number): number[] {
  let state = (seed * 0x9e3779b1 + count) >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => Math.floor(next() * vocab));
}

function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  if (q === 0.5) {
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  }
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function maxAbsDiff(a: Float32Array | null, b: Float32Array | null): number | null {
  if (!a || !b || a.length !== b.length) return null;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return Number.isNaN(max) ? null : max;
}

function argmax(a: Float32Array | null): number | null {
  if (!a || a.length === 0) return null;
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

class CallTimeout extends Error {
  override name = 'CallTimeout';
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CallTimeout(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function adapterReport(info: GPUAdapterInfo | undefined, features: Iterable<string>, isCpuAdapter?: boolean): AdapterReport {
  const extra = info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
  const description = info ? describeAdapter(info) : 'unknown adapter';
  const cpu = isCpuAdapter ?? (/swiftshader|llvmpipe|lavapipe|software|cpu/i.test(description) || extra?.isFallbackAdapter === true);
  return {
    description,
    isCpuAdapter: cpu,
    vendor: info?.vendor,
    architecture: info?.architecture,
    device: info?.device,
    adapterDescription: info?.description,
    isFallbackAdapter: extra?.isFallbackAdapter,
    features: [...features].sort(),
  };
}

/** One way of computing logits for ids; resolves to the last position's logits (vocab floats) on the CPU. */
interface Runner {
  id: ProviderId;
  run(ids: number[]): Promise<{ lastRow: Float32Array; engineMs?: number; engineMethod?: TimingMethod }>;
}

async function measureCell(runner: Runner, ids: number[], settings: Settings): Promise<{ cell: Cell; lastRow: Float32Array | null; hung: boolean }> {
  const T = ids.length;
  const reps = T >= settings.largeFrom ? settings.repsLarge : settings.reps;
  const budgetMs = settings.budgetS * 1000;
  const callTimeoutMs = settings.callTimeoutS * 1000;
  const cell: Cell = { status: 'ok', warmupMs: [], runsMs: [], medianMs: null, p90Ms: null, minMs: null };
  let lastRow: Float32Array | null = null;
  const engineMs: number[] = [];
  let engineMethod: TimingMethod | undefined;
  const cellStart = performance.now();
  const label = `${PROVIDER_LABEL[runner.id]} T=${T}`;
  let hung = false;

  const timedCall = async () => {
    const started = performance.now();
    const out = await withTimeout(runner.run(ids), callTimeoutMs, label);
    const ms = performance.now() - started;
    lastRow = out.lastRow;
    return { ms, out };
  };

  try {
    for (let w = 0; w < settings.warmup; w++) {
      const { ms } = await timedCall();
      cell.warmupMs.push(ms);
      log(`${label}: warm-up ${w + 1}/${settings.warmup} ${ms.toFixed(1)} ms`);
      if (performance.now() - cellStart > budgetMs) break;
    }
    const warmupOverBudget = performance.now() - cellStart > budgetMs;
    if (warmupOverBudget) {
      cell.status = 'skipped';
      cell.note = `warm-up alone took ${((performance.now() - cellStart) / 1000).toFixed(1)} s, over the ${settings.budgetS} s budget: no timed reps`;
    } else {
      for (let r = 0; r < reps; r++) {
        const { ms, out } = await timedCall();
        cell.runsMs.push(ms);
        if (out.engineMs !== undefined) engineMs.push(out.engineMs);
        if (out.engineMethod) engineMethod = out.engineMethod;
        const extra = out.engineMs !== undefined ? ` (engine timing ${out.engineMs.toFixed(2)} ms, ${out.engineMethod})` : '';
        log(`${label}: rep ${r + 1}/${reps} ${ms.toFixed(1)} ms${extra}`);
        if (r + 1 < reps && performance.now() - cellStart > budgetMs) {
          cell.status = 'truncated';
          cell.note = `${r + 1} of ${reps} reps: stopped at the ${settings.budgetS} s budget`;
          break;
        }
      }
    }
  } catch (error) {
    hung = error instanceof CallTimeout;
    cell.status = 'failed';
    cell.note = describeError(error);
    log(`${label}: FAILED ${cell.note}`);
  }
  cell.medianMs = quantile(cell.runsMs, 0.5);
  cell.p90Ms = quantile(cell.runsMs, 0.9);
  cell.minMs = cell.runsMs.length ? Math.min(...cell.runsMs) : null;
  if (runner.id === 'engine') {
    cell.engineTimingMs = engineMs;
    cell.engineTimingMethod = engineMethod;
    cell.engineTimingMedianMs = quantile(engineMs, 0.5);
  }
  return { cell, lastRow, hung };
}

function skippedCell(note: string): Cell {
  return { status: 'skipped', note, warmupMs: [], runsMs: [], medianMs: null, p90Ms: null, minMs: null };
}

function fmt(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '—' : value.toFixed(digits);
}

function render(result: BenchResult): void {
  const header = ['T', 'engine median ms', 'engine GPU ms', 'ORT wasm median ms', 'ORT webgpu median ms', 'engine / ORT wasm', 'engine / ORT webgpu', 'max |Δ| engine vs wasm', 'max |Δ| webgpu vs wasm'];
  const cellText = (cell: Cell) => {
    const text = fmt(cell.medianMs);
    return cell.status === 'ok' ? text : `${text} (${cell.status})`;
  };
  const ratio = (a: Cell, b: Cell) => (a.medianMs !== null && b.medianMs !== null ? (a.medianMs / b.medianMs).toFixed(3) : '—');
  const rows = result.rows.map((row) => {
    const { engine, ortWasm, ortWebgpu } = row.cells;
    const gpu = engine.engineTimingMethod === 'timestamp-query' ? fmt(engine.engineTimingMedianMs, 2) : '—';
    return [
      String(row.T), cellText(engine), gpu, cellText(ortWasm), cellText(ortWebgpu), ratio(engine, ortWasm), ratio(engine, ortWebgpu),
      row.maxAbsDiff.engineVsOrtWasm === null ? '—' : row.maxAbsDiff.engineVsOrtWasm.toExponential(2),
      row.maxAbsDiff.ortWebgpuVsOrtWasm === null ? '—' : row.maxAbsDiff.ortWebgpuVsOrtWasm.toExponential(2),
    ];
  });
  const table = document.createElement('table');
  const thead = table.createTHead().insertRow();
  for (const h of header) thead.appendChild(Object.assign(document.createElement('th'), { textContent: h }));
  const body = table.createTBody();
  for (const cells of rows) {
    const tr = body.insertRow();
    for (const c of cells) tr.insertCell().textContent = c;
  }
  tableEl.replaceChildren(table);
}

async function probe(): Promise<void> {
  try {
    const gpu = await requestBrowserDevice();
    window.__benchProbe = { ok: true, adapter: adapterReport(gpu.device.adapterInfo, gpu.device.features, gpu.isCpuAdapter) };
    gpu.device.destroy();
    statusEl.textContent = `adapter: ${window.__benchProbe.adapter!.description}`;
  } catch (error) {
    const tried = (error as { tried?: string[] }).tried;
    window.__benchProbe = { ok: false, error: `${describeError(error)}${tried ? ` [${tried.join('; ')}]` : ''}` };
    statusEl.textContent = window.__benchProbe.error!;
  }
}

/** A device like requestBrowserDevice's, minus timestamp-query. */
async function requestDeviceWithoutTimestamps(): Promise<GPUDevice> {
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('requestAdapter() returned null on the second request');
  return adapter.requestDevice({
    requiredLimits: {
      maxStorageBuffersPerShaderStage: Math.min(10, adapter.limits.maxStorageBuffersPerShaderStage),
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
}

/** Runs one small forward inside a validation error scope; returns the error messages (empty when clean). */
async function checkedForward(device: GPUDevice, engine: TransformerEngine, config: TransformerConfig, seed: number): Promise<string[]> {
  const ids = pseudoRandomIds(Math.min(16, config.n_positions), config.vocab_size, seed);
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('internal');
  let thrown: string | undefined;
  try {
    await engine.forward(buildPlan(config, ids.length, [], { logitsRows: 'last' }), ids);
  } catch (error) {
    thrown = describeError(error);
  }
  const errors = (await Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]))
    .filter((e): e is GPUError => e !== null)
    .map((e) => e.message.split('\n')[0]!.trim());
  return thrown ? [thrown, ...errors] : errors;
}

/**
 * The engine on the app's device, checked once for WebGPU errors. If that device makes the engine's command
 * buffer invalid (its output is then garbage, not slow), the bench falls back to a device without
 * timestamp-query and says so, rather than timing a no-op.
 */
async function createCheckedEngine(appDevice: GPUDevice, config: TransformerConfig, weights: TransformerWeights, seed: number) {
  let device = appDevice;
  let engine = new TransformerEngine(new GpuContext(device), config, weights);
  const appDeviceErrors = await checkedForward(device, engine, config, seed);
  let fellBack = false;
  if (appDeviceErrors.length > 0) {
    log(`WARNING: the engine's forward raised WebGPU errors on the app's device (timestamp-query ${device.features.has('timestamp-query') ? 'on' : 'off'}): ${appDeviceErrors.join(' | ')}`);
    if (device.features.has('timestamp-query')) {
      log('         timing the engine on a device without timestamp-query instead (no engine GPU-time column)');
      engine.destroy();
      device = await requestDeviceWithoutTimestamps();
      engine = new TransformerEngine(new GpuContext(device), config, weights);
      fellBack = true;
      const again = await checkedForward(device, engine, config, seed);
      if (again.length > 0) log(`WARNING: errors on the fallback device too: ${again.join(' | ')}`);
    }
  }
  const report: EngineDeviceReport = {
    timestampQuery: device.features.has('timestamp-query'),
    appDeviceErrors,
    fellBackToNoTimestamps: fellBack,
    uncapturedErrors: [],
    uncapturedErrorCount: 0,
  };
  device.addEventListener('uncapturederror', (event) => {
    report.uncapturedErrorCount++;
    if (report.uncapturedErrors.length < 20) report.uncapturedErrors.push((event as GPUUncapturedErrorEvent).error.message.split('\n')[0]!.trim());
  });
  void device.lost.then((info) => log(`the engine's GPU device was lost: ${info.reason} ${info.message}`));
  return { engine, report };
}

async function main(): Promise<void> {
  const started = performance.now();
  const result: BenchResult = {
    ok: false,
    startedAt: new Date().toISOString(),
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    settings: undefined as unknown as Settings,
    rows: [],
  };
  try {
    result.settings = readSettings();
    const settings = result.settings;
    result.ortVersion = ort.env.versions?.web;

    statusEl.textContent = 'requesting a WebGPU device…';
    // The app's own path (requestBrowserDevice asks for timestamp-query when the adapter has it).
    const gpu = await requestBrowserDevice();
    result.adapter = adapterReport(gpu.device.adapterInfo, gpu.device.features, gpu.isCpuAdapter);
    log(`adapter: ${result.adapter.description} (cpu adapter: ${result.adapter.isCpuAdapter}; timestamp-query: ${gpu.device.features.has('timestamp-query')})`);

    statusEl.textContent = 'loading the model…';
    const model = await loadModel({ kind: 'bundled', name: settings.model });
    const { config } = model;
    result.model = {
      name: model.name, n_layer: config.n_layer, n_head: config.n_head, n_embd: config.n_embd, vocab_size: config.vocab_size, n_positions: config.n_positions,
    };
    const tooLong = settings.tokens.find((t) => t > config.n_positions);
    if (tooLong !== undefined) throw new Error(`T=${tooLong} exceeds the model's n_positions ${config.n_positions}`);
    const onnxBytes = model.onnx;
    if (!onnxBytes) throw new Error(`${model.name} has no onnx/model.onnx, which the benchmark compares against`);
    log(`model ${model.name}: ${config.n_layer} layers, ${config.n_head} heads, d=${config.n_embd}, vocab ${config.vocab_size}; onnx ${(onnxBytes.byteLength / 1e6).toFixed(2)} MB`);

    const vocab = config.vocab_size;
    const runners = new Map<ProviderId, Runner>();
    const unavailable = new Map<ProviderId, string>();
    if (settings.providers.includes('engine')) {
      const { engine, report } = await createCheckedEngine(gpu.device, config, model.weights, settings.seed);
      result.engineDevice = report;
      runners.set('engine', {
        id: 'engine',
        async run(ids) {
          const plan = buildPlan(config, ids.length, [], { logitsRows: settings.engineRows });
          const out = await engine.forward(plan, ids);
          const lastRow = out.logits.subarray(out.logits.length - vocab);
          return { lastRow, engineMs: out.timing.ms, engineMethod: out.timing.method };
        },
      });
    }
    const ortRunner = (id: ProviderId, reference: OrtReference): Runner => ({
      id,
      async run(ids) {
        const logits = await reference.logits(ids);
        return { lastRow: logits.subarray((ids.length - 1) * vocab, ids.length * vocab) };
      },
    });
    for (const [id, provider] of [['ortWasm', 'wasm'], ['ortWebgpu', 'webgpu']] as const) {
      if (!settings.providers.includes(id)) continue;
      if (provider === 'webgpu') ort.env.webgpu.powerPreference = 'high-performance';
      try {
        const reference = await withTimeout(createOrtReference(onnxBytes, { provider }), settings.callTimeoutS * 1000, `ORT ${provider} session`);
        runners.set(id, ortRunner(id, reference));
        log(`ORT ${provider} session ready`);
      } catch (error) {
        unavailable.set(id, describeError(error));
        log(`ORT ${provider} unavailable: ${describeError(error)}`);
      }
    }
    if (runners.has('ortWebgpu')) {
      const adapter = ort.env.webgpu.adapter as GPUAdapter | undefined;
      result.ortWebgpuAdapter = adapter ? adapterReport(adapter.info, adapter.features) : null;
      if (adapter) log(`ORT webgpu adapter: ${result.ortWebgpuAdapter!.description}`);
    }

    const order: ProviderId[] = ['engine', 'ortWasm', 'ortWebgpu'];
    for (const T of settings.tokens) {
      const ids = pseudoRandomIds(T, vocab, settings.seed);
      const cells = {} as Record<ProviderId, Cell>;
      const lastRows: Record<ProviderId, Float32Array | null> = { engine: null, ortWasm: null, ortWebgpu: null };
      for (const id of order) {
        const runner = runners.get(id);
        if (!runner) {
          cells[id] = skippedCell(settings.providers.includes(id) ? (unavailable.get(id) ?? 'unavailable') : 'not requested (providers=…)');
          continue;
        }
        statusEl.textContent = `T=${T}: ${PROVIDER_LABEL[id]}…`;
        const { cell, lastRow, hung } = await measureCell(runner, ids, settings);
        cells[id] = cell;
        lastRows[id] = lastRow;
        if (hung) {
          // A hung call still holds the provider (ORT runs one request at a time): later calls would queue behind it.
          runners.delete(id);
          unavailable.set(id, `a call hung past ${settings.callTimeoutS} s at T=${T}; later T skipped`);
        }
      }
      const row: Row = {
        T,
        cells,
        maxAbsDiff: {
          engineVsOrtWasm: maxAbsDiff(lastRows.engine, lastRows.ortWasm),
          ortWebgpuVsOrtWasm: maxAbsDiff(lastRows.ortWebgpu, lastRows.ortWasm),
        },
        argmax: { engine: argmax(lastRows.engine), ortWasm: argmax(lastRows.ortWasm), ortWebgpu: argmax(lastRows.ortWebgpu) },
      };
      log(`T=${T}: max |Δ| engine vs ORT wasm ${fmt(row.maxAbsDiff.engineVsOrtWasm, 6)}, ORT webgpu vs ORT wasm ${fmt(row.maxAbsDiff.ortWebgpuVsOrtWasm, 6)}`);
      result.rows.push(row);
      render(result);
    }
    result.ok = true;
    statusEl.textContent = 'done';
  } catch (error) {
    result.error = showFailure(error);
  }
  result.finishedAt = new Date().toISOString();
  result.totalSeconds = (performance.now() - started) / 1000;
  window.__benchResult = JSON.parse(JSON.stringify(result)) as BenchResult;
}

void (new URLSearchParams(location.search).has('probe') ? probe() : main());
