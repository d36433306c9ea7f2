/**
 * Attention-only benchmark page (npm run bench:attention): the attention kernel of one layer on a random qkv buffer,
 * dense against the sliding window and every registered technique with a GPU estimator (estimateKeyBlocks), at
 * T = 1024, 2048, 4096. The kernels are driven directly (KernelRecorder.estimate / .attention on buffers made here),
 * with the lists buildPlan gives on a synthetic one-layer GPT-2 config (heads 4, head dim 64, n_positions ≥ T).
 *
 * Per (method, T): `warmup` untimed runs, then `reps` timed ones. An estimated method runs its estimator passes in
 * one submit (counts and key mask cleared in the same command buffer, before the pass) and attention in another, so
 * the two are timed apart. Each submit is timed by wall clock around `queue.onSubmittedWorkDone()` and, when the
 * device has timestamp-query, by the pass's timestamps. Medians are reported.
 *
 * Matched density: the sliding window's window is solved so that its useful pairs are `density` of dense causal
 * attention (W/T = 1 − √(1 − density), sinks 0: causal A-shape pairs ≈ T·W − W²/2 against T²/2); techniques whose
 * parameters the page does not know how to tune run with their defaults, or with `<id>.<param>=value` query keys
 * (e.g. `sale.tau=0.004`). The density actually reached is in every row.
 *
 * Query string (all optional):
 *   sizes=1024,2048,4096   sequence lengths (alias T=)
 *   reps=5 warmup=1        timed and untimed runs per (method, T)
 *   heads=4 headDim=64     the layer's shape (head dim ≤ 128, a multiple of 4)
 *   density=0.25           target density for methods a parameter controls
 *   methods=a,b            only these (dense is always run: it is the reference)
 *   seed=1                 the random qkv
 *   <technique>.<param>=v  a technique's parameter
 *
 * Results: window.__benchResult (AttentionBenchResult) and a table in the DOM; run.mjs writes
 * bench/results/attention-latest.json.
 */
import { requestBrowserDevice } from '../src/engine/gpu';
import { Frame, GpuContext } from '../src/engine/gpuContext';
import { seededFloats } from '../src/engine/kernelHarness';
import { KernelRecorder } from '../src/engine/kernels';
import { blockCount, tokenMask, wordsPerRow, type BlockEstimator, type EstimatorBinding, type ExecutionPlan, type KeyBlockLists, type LayerPlan } from '../src/engine/plan';
import { packKeyBlocks } from '../src/engine/transformerEngine';
import { countPairs } from '../src/flops/countFlops';
import { parseModelConfig, type TransformerConfig } from '../src/models/config';
import { buildPlan } from '../src/techniques/buildPlan';
import { techniqueById, techniques } from '../src/techniques/registry';
import { slidingWindow } from '../src/techniques/slidingWindow/slidingWindow';
import { defaultParams, type ActiveTechnique, type ParamValues } from '../src/techniques/types';
import { describeError, log, showFailure, statusEl, tableEl } from './page';

export interface AttentionRow {
  method: string;
  T: number;
  params: ParamValues | null;
  /** Useful pairs / dense causal pairs (of what attention read: for an estimator, its read-back choice). */
  density: number;
  executedPairs: number;
  usefulPairs: number;
  /** Attention-kernel FLOPs (4·executedPairs·headDim) over dense's. */
  flopRatio: number;
  /** Estimator FLOPs (2·(macs + intMacs)) over dense attention's; 0 without one. */
  estimateFlopRatio: number;
  attentionMs: number;
  /** Wall clock around onSubmittedWorkDone. */
  attentionWallMs: number;
  attentionGpuMs: number | null;
  estimateMs: number | null;
  estimateWallMs: number | null;
  estimateGpuMs: number | null;
  /** attentionMs / dense attentionMs (the timestamp time where there is one, else wall clock). */
  timeRatio: number;
  /** timeRatio / flopRatio: 1 = the time falls exactly with the executed FLOPs; the issue asks ≤ 1.3 at T ≥ 1024. */
  timePerFlop: number;
  /** (estimateMs + attentionMs) / dense attentionMs. */
  totalTimeRatio: number;
  reps: number;
}

export interface AttentionBenchResult {
  ok: boolean;
  error?: string;
  adapter: { description: string; isCpuAdapter: boolean } | null;
  timestampQuery: boolean;
  timing: 'timestamp-query' | 'wall-clock';
  settings: { sizes: number[]; reps: number; warmup: number; heads: number; headDim: number; density: number; seed: number };
  rows: AttentionRow[];
  skipped: { method: string; reason: string }[];
}

function readSettings() {
  const q = new URLSearchParams(location.search);
  const num = (name: string, fallback: number, min: number) => {
    const raw = q.get(name);
    const value = raw === null ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`query parameter ${name}=${raw} must be a number ≥ ${min}`);
    return value;
  };
  const sizes = (q.get('sizes') ?? q.get('T') ?? '1024,2048,4096').split(',').map((s) => Number(s.trim()));
  if (sizes.some((t) => !Number.isInteger(t) || t < 16)) throw new Error(`sizes=${q.get('sizes') ?? q.get('T')} must list integers ≥ 16`);
  const techniqueParams = new Map<string, Record<string, string>>();
  for (const [key, value] of q) {
    const dot = key.indexOf('.');
    if (dot <= 0) continue;
    const id = key.slice(0, dot);
    if (!techniqueById(id)) throw new Error(`query key ${key}: no technique "${id}" (registered: ${techniques.map((t) => t.id).join(', ')})`);
    techniqueParams.set(id, { ...techniqueParams.get(id), [key.slice(dot + 1)]: value });
  }
  const headDim = num('headDim', 64, 4);
  if (headDim % 4 !== 0 || headDim > 128) throw new Error(`headDim=${headDim} must be a multiple of 4, at most 128`);
  return {
    sizes,
    reps: num('reps', 5, 1),
    warmup: num('warmup', 1, 0),
    heads: num('heads', 4, 1),
    headDim,
    density: num('density', 0.25, 0.001),
    seed: num('seed', 1, 0),
    methods: q.get('methods')?.split(',').map((s) => s.trim()) ?? null,
    techniqueParams,
  };
}

function syntheticConfig(heads: number, headDim: number, positions: number): TransformerConfig {
  return parseModelConfig({ model_type: 'gpt2', n_layer: 1, n_head: heads, n_embd: heads * headDim, n_positions: positions, vocab_size: 256 });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface Method {
  name: string;
  active: ActiveTechnique[];
}

/** The methods at length T: dense, the window at matched density, each estimator technique. */
function methodsAt(T: number, settings: ReturnType<typeof readSettings>): Method[] {
  const window = Math.max(1, Math.round(T * (1 - Math.sqrt(1 - Math.min(1, settings.density)))));
  const methods: Method[] = [
    { name: 'dense', active: [] },
    { name: slidingWindow.id, active: [{ id: slidingWindow.id, params: { ...defaultParams(slidingWindow), sinkTokens: 0, windowTokens: window } }] },
  ];
  for (const technique of techniques) {
    if (!technique.estimateKeyBlocks) continue;
    const params: ParamValues = defaultParams(technique);
    for (const [key, raw] of Object.entries(settings.techniqueParams.get(technique.id) ?? {})) {
      const spec = technique.params.find((p) => p.key === key);
      if (!spec) throw new Error(`${technique.id} has no parameter ${key} (its parameters: ${technique.params.map((p) => p.key).join(', ')})`);
      params[key] = spec.kind === 'choice' ? raw : Number(raw);
    }
    methods.push({ name: technique.id, active: [{ id: technique.id, params }] });
  }
  return methods.filter((m) => m.name === 'dense' || !settings.methods || settings.methods.includes(m.name));
}

interface Timed {
  wall: number[];
  gpu: number[];
}

/** One submit of `record` (in one compute pass), timed by wall clock and, when offered, by timestamps. */
async function submitTimed(context: GpuContext, frame: Frame, before: (encoder: GPUCommandEncoder) => void, record: (kernels: KernelRecorder) => void, timed: Timed | null): Promise<void> {
  const { device } = context;
  const encoder = device.createCommandEncoder();
  before(encoder);
  const querySet = context.hasTimestampQuery ? device.createQuerySet({ type: 'timestamp', count: 2 }) : undefined;
  const pass = encoder.beginComputePass(querySet ? { timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
  record(new KernelRecorder(context, frame, pass));
  pass.end();
  const read = querySet ? frame.readback(16, 'timestamps read') : undefined;
  if (querySet && read) {
    const resolve = frame.queryResolve(16, 'timestamps');
    encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
    encoder.copyBufferToBuffer(resolve, 0, read, 0, 16);
  }
  const start = performance.now();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  const wall = performance.now() - start;
  if (read) {
    await read.mapAsync(GPUMapMode.READ, 0, 16);
    const [begin, end] = new BigUint64Array(read.getMappedRange(0, 16));
    read.unmap();
    if (timed && begin !== undefined && end !== undefined && end > begin) timed.gpu.push(Number(end - begin) / 1e6);
  }
  querySet?.destroy();
  timed?.wall.push(wall);
}

async function readU32(device: GPUDevice, frame: Frame, buffer: GPUBuffer, words: number): Promise<Uint32Array> {
  const read = frame.readback(words * 4, 'read');
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, read, 0, Math.ceil((words * 4) / 4) * 4);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ, 0, words * 4);
  const copy = new Uint32Array(read.getMappedRange(0, words * 4).slice(0));
  read.unmap();
  return copy;
}

async function measure(context: GpuContext, config: TransformerConfig, T: number, qkv: GPUBuffer, method: Method, settings: ReturnType<typeof readSettings>) {
  const { device } = context;
  const plan: ExecutionPlan = buildPlan(config, T, method.active, { logitsRows: 'last' });
  const layer: LayerPlan = plan.layers[0]!;
  const heads = config.n_head;
  const headDim = settings.headDim;
  const frame = new Frame(context);
  try {
    const packed = packKeyBlocks(layer.keyBlocks, T, layer.bidirectionalPrefix);
    const planned = { counts: frame.storageWith(packed.counts, 'planned counts'), indices: frame.storageWith(packed.indices, 'planned indices') };
    const estimator: BlockEstimator | null = layer.estimator;
    const mask = tokenMask(config, layer);
    const out = frame.storage(T * config.n_embd * 4, 'attended');
    let counts = planned.counts;
    let indices = planned.indices;
    let keyMask: GPUBuffer | undefined;
    let keyMaskWords = 0;
    let before: (encoder: GPUCommandEncoder) => void = () => undefined;
    let recordEstimate: ((kernels: KernelRecorder) => void) | null = null;
    if (estimator) {
      counts = frame.storage(packed.counts.byteLength, 'counts');
      indices = frame.storage(packed.indices.byteLength, 'indices');
      keyMaskWords = estimator.keyMask === 'none' ? 0 : (estimator.keyMask === 'per-head' ? heads : 1) * T * wordsPerRow(T);
      keyMask = keyMaskWords ? frame.storage(keyMaskWords * 4, 'key mask') : undefined;
      const bound = new Map<string, GPUBuffer>();
      const forward = new Map<string, GPUBuffer>();
      const named = (binding: EstimatorBinding, kernels: KernelRecorder): GPUBuffer => {
        if (typeof binding === 'object') {
          if ('data' in binding) {
            const data = estimator.data[binding.data];
            if (!data) throw new Error(`${estimator.technique}: no data named "${binding.data}"`);
            return frame.storageWith(data, binding.data);
          }
          const scratch = estimator.scratch[binding.scratch];
          if (!scratch) throw new Error(`${estimator.technique}: no scratch named "${binding.scratch}"`);
          return frame.storage(scratch.bytes, binding.scratch);
        }
        switch (binding) {
          case 'qkv': return qkv;
          case 'allowedCounts': return planned.counts;
          case 'allowedIndices': return planned.indices;
          case 'counts': return counts;
          case 'indices': return indices;
          case 'shape': return kernels.estimateShape({ tokens: T, heads, headDim, maxKeyBlocks: packed.maxKeyBlocks, bidirectionalPrefix: layer.bidirectionalPrefix, firstTokenRow: mask.firstTokenRow, layer: 0 });
          case 'keyMask':
            if (!keyMask) throw new Error(`${estimator.technique} binds a key mask but declares keyMask: 'none'`);
            return keyMask;
        }
      };
      const bind = (binding: EstimatorBinding, kernels: KernelRecorder) => {
        const key = JSON.stringify(binding);
        // One layer, one forward: 'forward' scratch is this method's own buffer, as 'layer' scratch is.
        const cache = typeof binding === 'object' && 'scratch' in binding && estimator.scratch[binding.scratch]?.scope === 'forward' ? forward : bound;
        let buffer = cache.get(key);
        if (!buffer) cache.set(key, (buffer = named(binding, kernels)));
        return buffer;
      };
      before = (encoder) => {
        encoder.clearBuffer(counts);
        if (keyMask) encoder.clearBuffer(keyMask);
      };
      recordEstimate = (kernels) =>
        kernels.estimate({
          technique: estimator.technique,
          macs: estimator.cost.macs + estimator.cost.intMacs,
          passes: estimator.passes.map((pass) => ({ ...pass, buffers: pass.bindings.map((b) => bind(b, kernels)) })),
        });
      // 'forward' scratch is cleared once per forward pass: once here, for the one layer.
      const encoder = device.createCommandEncoder();
      for (const [name, scratch] of Object.entries(estimator.scratch)) {
        if (scratch.scope !== 'forward') continue;
        const buffer = frame.storage(scratch.bytes, name);
        forward.set(JSON.stringify({ scratch: name }), buffer);
        encoder.clearBuffer(buffer);
      }
      device.queue.submit([encoder.finish()]);
    }
    const recordAttention = (kernels: KernelRecorder) =>
      kernels.attention({
        qkv, blockCounts: counts, blockIndices: indices, out, ...mask, keyMaskWords: keyMask, keyMaskPerHead: estimator?.keyMask === 'per-head',
        heads, headDim, maxKeyBlocks: packed.maxKeyBlocks, runHeads: layer.heads, executedPairs: null,
      });

    const estimateTimes: Timed = { wall: [], gpu: [] };
    const attentionTimes: Timed = { wall: [], gpu: [] };
    for (let rep = 0; rep < settings.warmup + settings.reps; rep++) {
      const timed = rep >= settings.warmup;
      if (recordEstimate) await submitTimed(context, frame, before, recordEstimate, timed ? estimateTimes : null);
      await submitTimed(context, frame, () => undefined, recordAttention, timed ? attentionTimes : null);
    }

    // What attention read: the plan's lists, or the estimator's choice read back.
    let lists: KeyBlockLists = layer.keyBlocks;
    let selectionMask = mask;
    if (estimator) {
      const queryBlocks = blockCount(T);
      const c = await readU32(device, frame, counts, packed.counts.length);
      const ix = await readU32(device, frame, indices, packed.indices.length);
      lists = Array.from({ length: heads }, (_, h) =>
        Array.from({ length: queryBlocks }, (_, q) => Array.from(ix.subarray((h * queryBlocks + q) * packed.maxKeyBlocks, (h * queryBlocks + q) * packed.maxKeyBlocks + c[h * queryBlocks + q]!))),
      );
      if (keyMask) selectionMask = { ...mask, keyMask: { perHead: estimator.keyMask === 'per-head', bits: await readU32(device, frame, keyMask, keyMaskWords) } };
    }
    const pairs = countPairs(lists, selectionMask, plan.blockSize);
    return {
      pairs,
      estimateCost: estimator ? estimator.cost.macs + estimator.cost.intMacs : 0,
      estimate: recordEstimate ? estimateTimes : null,
      attention: attentionTimes,
      params: method.active[0]?.params ?? null,
    };
  } finally {
    frame.release();
  }
}

function renderTable(rows: AttentionRow[]): void {
  const header = ['method', 'T', 'density', 'FLOP ratio', 'time ratio', 'time/FLOP', 'attn ms', 'estimate ms', 'total ratio'];
  const f = (v: number | null, d = 3) => (v === null ? '—' : v.toFixed(d));
  tableEl.innerHTML = `<table><tr>${header.map((h) => `<th>${h}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${[r.method, String(r.T), f(r.density), f(r.flopRatio), f(r.timeRatio), f(r.timePerFlop, 2), f(r.attentionMs, 2), f(r.estimateMs, 2), f(r.totalTimeRatio)].map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}

async function main(): Promise<void> {
  const result: AttentionBenchResult = {
    ok: false, adapter: null, timestampQuery: false, timing: 'wall-clock',
    settings: { sizes: [], reps: 0, warmup: 0, heads: 0, headDim: 0, density: 0, seed: 0 }, rows: [], skipped: [],
  };
  try {
    const settings = readSettings();
    result.settings = { sizes: settings.sizes, reps: settings.reps, warmup: settings.warmup, heads: settings.heads, headDim: settings.headDim, density: settings.density, seed: settings.seed };
    const gpu = await requestBrowserDevice();
    const context = new GpuContext(gpu.device);
    result.adapter = { description: gpu.adapterDescription, isCpuAdapter: gpu.isCpuAdapter };
    result.timestampQuery = context.hasTimestampQuery;
    result.timing = context.hasTimestampQuery ? 'timestamp-query' : 'wall-clock';
    const errors: string[] = [];
    gpu.device.addEventListener('uncapturederror', (event) => errors.push((event as GPUUncapturedErrorEvent).error.message));
    log(`adapter ${gpu.adapterDescription}; timestamps ${result.timestampQuery ? 'on' : 'off'}`);
    const config = syntheticConfig(settings.heads, settings.headDim, Math.max(...settings.sizes));
    for (const T of settings.sizes) {
      const qkv = context.upload(seededFloats(T * 3 * config.n_embd, settings.seed + T), GPUBufferUsage.STORAGE, `qkv ${T}`);
      let dense: { ms: number; executed: number; useful: number } | null = null;
      for (const method of methodsAt(T, settings)) {
        statusEl.textContent = `T=${T}: ${method.name}…`;
        log(`T=${T}: ${method.name}`);
        try {
          const m = await measure(context, config, T, qkv, method, settings);
          const pick = (t: Timed) => (t.gpu.length === t.wall.length ? median(t.gpu) : median(t.wall));
          const attentionMs = pick(m.attention);
          const estimateMs = m.estimate ? pick(m.estimate) : null;
          dense ??= { ms: attentionMs, executed: m.pairs.executed, useful: m.pairs.useful };
          const flopRatio = m.pairs.executed / dense.executed;
          const timeRatio = attentionMs / dense.ms;
          result.rows.push({
            method: method.name, T, params: m.params,
            density: m.pairs.useful / dense.useful,
            executedPairs: m.pairs.executed, usefulPairs: m.pairs.useful,
            flopRatio,
            estimateFlopRatio: m.estimateCost / (2 * dense.executed * settings.headDim),
            attentionMs, attentionWallMs: median(m.attention.wall), attentionGpuMs: m.attention.gpu.length ? median(m.attention.gpu) : null,
            estimateMs, estimateWallMs: m.estimate ? median(m.estimate.wall) : null, estimateGpuMs: m.estimate?.gpu.length ? median(m.estimate.gpu) : null,
            timeRatio, timePerFlop: timeRatio / flopRatio, totalTimeRatio: ((estimateMs ?? 0) + attentionMs) / dense.ms,
            reps: m.attention.wall.length,
          });
          renderTable(result.rows);
        } catch (error) {
          result.skipped.push({ method: `${method.name} T=${T}`, reason: describeError(error) });
          log(`${method.name} T=${T} failed: ${describeError(error)}`);
        }
      }
      qkv.destroy();
    }
    if (errors.length) result.skipped.push({ method: 'device', reason: `${errors.length} uncaptured WebGPU error(s): ${errors.slice(0, 3).join(' | ')}` });
    result.ok = errors.length === 0;
    if (!result.ok) result.error = 'uncaptured WebGPU errors: the timings are not trustworthy';
    statusEl.textContent = 'done';
  } catch (error) {
    result.error = showFailure(error);
  }
  // bench.ts declares window.__benchResult with its own type; this page writes the same global with another shape.
  (window as unknown as { __benchResult?: AttentionBenchResult }).__benchResult = JSON.parse(JSON.stringify(result)) as AttentionBenchResult;
}

void main();
