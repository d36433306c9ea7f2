#!/usr/bin/env node
/**
 * npm run bench — serves bench/index.html with Vite, opens it in headless Chromium, waits for
 * window.__benchResult, prints a table and writes bench/results/latest.json.
 * npm run bench:load (= npm run bench -- page=load) does the same with bench/load.html, the model-load benchmark,
 * and writes bench/results/load-latest.json; npm run bench:attention (page=attention) runs bench/attention.html, the
 * attention-only benchmark, and writes bench/results/attention-latest.json.
 *
 * Environment:
 *   BENCH_GPU=1 / BENCH_GPU=0   force real-GPU flags / force SwiftShader (default: detect /dev/nvidia0, /dev/dri/renderD*)
 *   BENCH_CHROMIUM=/path        browser executable (default /usr/bin/chromium; Playwright's own browser if that is missing)
 *   BENCH_QUERY='T=64,256&reps=10'   query string for the page (see bench/bench.ts for the keys)
 *   BENCH_TIMEOUT_MIN=20        how long to wait for the page's result
 * Any command-line argument of the form key=value is added to the query string too: npm run bench -- T=64 reps=10
 * except page=NAME, which picks the page (see PAGES): dense (default), load or attention.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);

const COMMON_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--headless=new',
  // Turns off the 100 µs quantisation of GPU timestamps (performance.md A4), for the engine's GPU-time column.
  '--enable-webgpu-developer-features',
];
const GPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=vulkan', '--ignore-gpu-blocklist'];
const SWIFTSHADER_FLAGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader'];

async function loadChromium() {
  // @playwright/test re-exports playwright-core's chromium; fall back to playwright-core if only that is installed.
  for (const name of ['@playwright/test', 'playwright-core']) {
    try {
      const mod = await import(name);
      if (mod.chromium) return mod.chromium;
    } catch {
      // try the next one
    }
  }
  throw new Error('neither @playwright/test nor playwright-core can be imported; run npm install');
}

function detectGpu() {
  const forced = process.env.BENCH_GPU;
  if (forced === '1' || forced === 'true') return { gpu: true, why: 'BENCH_GPU=1' };
  if (forced === '0' || forced === 'false') return { gpu: false, why: 'BENCH_GPU=0' };
  if (existsSync('/dev/nvidia0')) return { gpu: true, why: '/dev/nvidia0 present' };
  let render = [];
  try {
    render = readdirSync('/dev/dri').filter((name) => name.startsWith('renderD'));
  } catch {
    // no /dev/dri
  }
  if (render.length > 0) return { gpu: true, why: `/dev/dri/${render[0]} present` };
  return { gpu: false, why: 'no /dev/nvidia0 or /dev/dri/renderD*' };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function pageQuery() {
  const params = new URLSearchParams(process.env.BENCH_QUERY ?? '');
  for (const arg of process.argv.slice(2)) {
    const eq = arg.indexOf('=');
    if (eq > 0) params.set(arg.slice(0, eq).replace(/^--/, ''), arg.slice(eq + 1));
    else console.warn(`ignoring argument "${arg}" (expected key=value)`);
  }
  const pageName = params.get('page') ?? 'dense';
  params.delete('page');
  const page = PAGES[pageName];
  if (!page) throw new Error(`unknown page=${pageName} (pages: ${Object.keys(PAGES).join(', ')})`);
  return { page, params };
}

async function launch(chromium, gpuMode) {
  const executablePath = process.env.BENCH_CHROMIUM ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
  const args = [...COMMON_FLAGS, ...(gpuMode ? GPU_FLAGS : SWIFTSHADER_FLAGS)];
  const browser = await chromium.launch({ executablePath, headless: true, args });
  return { browser, args, executablePath: executablePath ?? '(Playwright default)' };
}

async function newPage(browser) {
  const page = await browser.newPage();
  page.on('console', (msg) => {
    const text = msg.text();
    if (text.startsWith('[bench] ')) console.log(`  ${text.slice(8)}`);
    // ORT's C++ logger prints its (harmless) node-placement warnings through console.error.
    else if (/\[W:onnxruntime:/.test(text)) return;
    else if (msg.type() === 'error' || msg.type() === 'warning') console.log(`  [page ${msg.type()}] ${text}`);
  });
  page.on('pageerror', (error) => console.log(`  [page error] ${error.message}`));
  return page;
}

/** Polls a window property; survives a page reload (which would restart the page's work). */
async function waitForGlobal(page, name, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const value = await page.evaluate((key) => window[key] ?? null, name);
      if (value !== null) return value;
    } catch (error) {
      if (page.isClosed()) throw new Error(`the page closed while waiting for ${name}: ${error.message}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`no ${name} after ${Math.round(timeoutMs / 1000)} s`);
}

async function probeAdapter(browser, baseUrl) {
  const page = await newPage(browser);
  try {
    await page.goto(`${baseUrl}/bench/index.html?probe=1`);
    return await waitForGlobal(page, '__benchProbe', 120_000);
  } finally {
    await page.close();
  }
}

const fmt = (v, digits = 1) => (v === null || v === undefined ? '—' : v.toFixed(digits));
const ratio = (a, b) => (a?.medianMs != null && b?.medianMs != null ? (a.medianMs / b.medianMs).toFixed(3) : '—');
const cellText = (cell) => {
  if (!cell) return '—';
  const value = fmt(cell.medianMs);
  if (cell.status === 'ok') return value;
  if (cell.status === 'truncated') return `${value}*`;
  return `${value} (${cell.status})`;
};
const sci = (v) => (v === null || v === undefined ? '—' : v.toExponential(2));

function reportDense(result) {
  console.log(`adapter (engine): ${result.adapter?.description ?? 'none'}${result.adapter?.isCpuAdapter ? ' — CPU implementation, not a GPU' : ''}`);
  if (result.ortWebgpuAdapter !== undefined) console.log(`adapter (ORT webgpu): ${result.ortWebgpuAdapter?.description ?? 'unknown'}`);
  const ed = result.engineDevice;
  if (ed) {
    console.log(`engine device: timestamp-query ${ed.timestampQuery ? 'on' : 'off'}${ed.fellBackToNoTimestamps ? ' (FALLBACK: the engine raised WebGPU errors on the app\'s timestamp-query device, see engineDevice.appDeviceErrors)' : ''}; uncaptured WebGPU errors during the run: ${ed.uncapturedErrorCount}`);
    for (const e of ed.appDeviceErrors) console.log(`  app-device error: ${e}`);
    for (const e of ed.uncapturedErrors) console.log(`  uncaptured error: ${e}`);
  }
  if (result.model) console.log(`model: ${result.model.name} (${result.model.n_layer} layers, ${result.model.n_head} heads, d=${result.model.n_embd}, vocab ${result.model.vocab_size}); ORT ${result.ortVersion ?? '?'}; wasm threads ${result.settings?.ortWasmThreads}; engine logit rows: ${result.settings?.engineRows}`);
  if (result.rows?.length) printTable(result);
}

function printTable(result) {
  const header = ['T', 'engine ms', 'engine GPU ms', 'ORT wasm ms', 'ORT webgpu ms', 'engine/ORT-wasm', 'engine/ORT-webgpu', 'max|Δ| eng-wasm', 'max|Δ| webgpu-wasm'];
  const rows = result.rows.map((row) => {
    const { engine, ortWasm, ortWebgpu } = row.cells;
    const gpu = engine?.engineTimingMethod === 'timestamp-query' ? fmt(engine.engineTimingMedianMs, 2) : '—';
    return [String(row.T), cellText(engine), gpu, cellText(ortWasm), cellText(ortWebgpu), ratio(engine, ortWasm), ratio(engine, ortWebgpu), sci(row.maxAbsDiff.engineVsOrtWasm), sci(row.maxAbsDiff.ortWebgpuVsOrtWasm)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log('ms = median wall clock per forward (awaited call until logits are on the CPU), after warm-up; ratios < 1 mean our engine is faster.');
  console.log('engine GPU ms = median of the engine\'s timestamp-query time of its one compute pass (no submit/readback latency).');
  const notes = [];
  for (const row of result.rows) {
    for (const [id, cell] of Object.entries(row.cells)) {
      if (cell.status !== 'ok') notes.push(`  T=${row.T} ${id}: ${cell.status}${cell.note ? ` — ${cell.note}` : ''}`);
    }
    const { engine, ortWasm, ortWebgpu } = row.argmax;
    if (engine !== null && ortWasm !== null && engine !== ortWasm) notes.push(`  T=${row.T}: argmax differs (engine ${engine}, ORT wasm ${ortWasm})`);
    if (ortWebgpu !== null && ortWasm !== null && ortWebgpu !== ortWasm) notes.push(`  T=${row.T}: argmax differs (ORT webgpu ${ortWebgpu}, ORT wasm ${ortWasm})`);
  }
  if (notes.length) console.log(`notes (* = truncated by the time budget):\n${notes.join('\n')}`);
}

/** Model-load page: cross-checks the page's own request counts with what Playwright saw on the network. */
function checkLoad(result) {
  const problems = [];
  const requests = result.network.modelRequests;
  for (const model of result.models ?? []) {
    const folder = `/models/${model.name}/`;
    const seen = Object.entries(requests).filter(([path]) => path.includes(folder)).reduce((sum, [, n]) => sum + n, 0);
    const counted = [...model.cold, ...model.warm].reduce((sum, run) => sum + run.modelFileRequests, 0);
    const warm = model.warm.reduce((sum, run) => sum + run.modelFileRequests, 0);
    model.networkCheck = { playwrightModelFileRequests: seen, pageModelFileRequests: counted, pageWarmModelFileRequests: warm };
    // The page counts what its loader fetched; the browser saw every request. Equal totals with zero warm
    // requests on the page's side mean every warm load was served by the Cache API.
    if (seen !== counted) {
      const problem = `Playwright saw ${seen} request(s) under ${folder}, the page counted ${counted} (cold + warm): some load bypassed the page's counting, so the warm numbers cannot be trusted`;
      model.problems.push(problem);
      model.ok = false;
      problems.push(`${model.name}: ${problem}`);
    }
  }
  if (problems.length) {
    result.ok = false;
    result.error = [result.error, ...problems].filter(Boolean).join('; ');
  }
}

function reportLoad(result) {
  console.log(`adapter: ${result.adapter?.description ?? 'none'}${result.adapter?.isCpuAdapter ? ' — CPU implementation, not a GPU' : ''}; uncaptured WebGPU errors during the run: ${result.uncapturedErrorCount ?? '—'}`);
  for (const e of result.uncapturedErrors ?? []) console.log(`  uncaptured error: ${e}`);
  const models = result.models ?? [];
  if (!models.length) return;
  console.log(`${result.settings.reps} rep(s) per model; medians; Cache API cache "${result.cacheName}"`);
  const header = ['model', 'kind', 'files', 'bytes', 'cold ms', 'warm ms', 'warm/cold', 'engine ready ms', '2nd forward ms', 'tokens', 'requests cold/warm'];
  const rows = models.map((m) => {
    const cold = m.cold.map((r) => r.modelFileRequests);
    const warm = m.warm.map((r) => r.modelFileRequests);
    const status = m.error ? ' (failed)' : m.problems.length ? ' (!)' : '';
    return [
      `${m.name}${status}`, m.kind ?? '—', String(m.files.length), m.bytes === null ? '—' : String(m.bytes),
      fmt(m.median.coldMs), fmt(m.median.warmMs), fmt(m.median.warmOverCold, 3), fmt(m.median.readyMs), fmt(m.median.secondForwardMs),
      m.inputTokens === undefined ? '—' : String(m.inputTokens), `${Math.max(0, ...cold)}/${Math.max(0, ...warm)}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => (i <= 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i <= 1 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log('cold = loadModel with an empty Cache API cache (files from the Vite server, HTTP cache bypassed); warm = the same served by the Cache API;');
  console.log('engine ready = new GpuContext + new TransformerEngine + first dense forward until logits are on the CPU; 2nd forward = the next forward on that engine.');
  console.log('bytes = manifest sizes of the files a cold load fetched; requests = model-file network requests per load (most over the reps; warm must be 0).');
  for (const m of models) {
    if (m.error) console.log(`  ${m.name}: FAILED ${m.error}`);
    for (const p of m.problems) console.log(`  ${m.name}: PROBLEM ${p}`);
    const check = m.networkCheck;
    if (check) console.log(`  ${m.name}: Playwright saw ${check.playwrightModelFileRequests} model-file request(s) in ${m.cold.length} cold + ${m.warm.length} warm load(s); the page counted ${check.pageModelFileRequests} (warm: ${check.pageWarmModelFileRequests})`);
  }
}

/** Attention-only page: one table row per (method, T); ratios against dense at the same T. */
function reportAttention(result) {
  console.log(`adapter: ${result.adapter?.description ?? 'none'}${result.adapter?.isCpuAdapter ? ' — CPU implementation, not a GPU' : ''}; timing: ${result.timing}`);
  const s = result.settings;
  console.log(`one layer, ${s.heads} heads, head dim ${s.headDim}, random qkv (seed ${s.seed}); target density ${s.density}; median of ${s.reps} after ${s.warmup} warm-up`);
  const header = ['method', 'T', 'density', 'FLOP ratio', 'time ratio', 'time/FLOP', 'attn ms', 'estimate ms', 'total ratio'];
  const rows = (result.rows ?? []).map((r) => [r.method, String(r.T), fmt(r.density, 3), fmt(r.flopRatio, 3), fmt(r.timeRatio, 3), fmt(r.timePerFlop, 2), fmt(r.attentionMs, 2), fmt(r.estimateMs, 2), fmt(r.totalTimeRatio, 3)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log('density = useful pairs / dense causal pairs; FLOP ratio = executed attention FLOPs / dense; time ratio = attention-kernel time / dense;');
  console.log('time/FLOP = time ratio / FLOP ratio (the issue asks ≤ 1.3 at T ≥ 1024); estimate ms = the estimator passes, a separate submit; total ratio = (estimate + attention) / dense.');
  const over = (result.rows ?? []).filter((r) => r.method !== 'dense' && r.T >= 1024 && r.timePerFlop > 1.3);
  if (over.length) console.log(`above 1.3: ${over.map((r) => `${r.method} T=${r.T} (${r.timePerFlop.toFixed(2)})`).join(', ')}`);
  for (const s of result.skipped ?? []) console.log(`  skipped ${s.method}: ${s.reason}`);
}

/** The bench pages: page=NAME on the command line picks one. */
const PAGES = {
  dense: { name: 'dense', html: 'index.html', out: 'latest.json', report: reportDense },
  load: { name: 'load', html: 'load.html', out: 'load-latest.json', report: reportLoad, check: checkLoad },
  attention: { name: 'attention', html: 'attention.html', out: 'attention-latest.json', report: reportAttention },
};

async function main() {
  const chromium = await loadChromium();
  const detected = detectGpu();
  const { page: benchPage, params: query } = pageQuery();
  const timeoutMs = Number(process.env.BENCH_TIMEOUT_MIN ?? 20) * 60_000;

  const port = await freePort();
  const server = await createServer({
    root,
    logLevel: 'warn',
    clearScreen: false,
    // Other people edit the tree while the bench runs: no file watcher and no HMR, so no edit reloads the page mid-run.
    server: { host: '127.0.0.1', port, strictPort: false, hmr: false, watch: null },
    optimizeDeps: { entries: Object.values(PAGES).map((p) => `bench/${p.html}`) },
  });
  let browser;
  let exitCode = 0;
  try {
    await server.listen();
    const address = server.httpServer?.address();
    const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
    console.log(`vite dev server: ${baseUrl}`);

    let gpuMode = detected.gpu;
    let launched = await launch(chromium, gpuMode);
    browser = launched.browser;
    console.log(`chromium: ${launched.executablePath} ${browser.version()} — ${gpuMode ? 'real-GPU' : 'SwiftShader'} flags (${detected.why})`);
    let probe = await probeAdapter(browser, baseUrl);
    let fellBack = false;
    if (gpuMode && (!probe.ok || probe.adapter?.isCpuAdapter)) {
      console.log(`WARNING: a GPU was detected (${detected.why}) but Chromium gave ${probe.ok ? `a CPU adapter (${probe.adapter.description})` : `no adapter (${probe.error})`}; retrying with SwiftShader flags. The numbers below are NOT real-GPU numbers.`);
      await browser.close();
      gpuMode = false;
      fellBack = true;
      launched = await launch(chromium, gpuMode);
      browser = launched.browser;
      probe = await probeAdapter(browser, baseUrl);
    }
    if (!probe.ok) throw new Error(`no WebGPU adapter: ${probe.error}`);
    console.log(`adapter: ${probe.adapter.description}${probe.adapter.isCpuAdapter ? ' (CPU implementation)' : ''}; features: ${probe.adapter.features.join(', ')}`);

    const page = await newPage(browser);
    // Every request for a model file, as the browser's network stack saw it (Cache API reads are not requests).
    const modelRequests = new Map();
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (path.startsWith('/models/')) modelRequests.set(path, (modelRequests.get(path) ?? 0) + 1);
    });
    const url = `${baseUrl}/bench/${benchPage.html}${query.size ? `?${query}` : ''}`;
    console.log(`bench page: ${url}`);
    const started = Date.now();
    const loadBefore = loadavg();
    await page.goto(url);
    const result = { ...(await waitForGlobal(page, '__benchResult', timeoutMs)), page: benchPage.name };
    result.network = { modelRequests: Object.fromEntries([...modelRequests].sort(([a], [b]) => a.localeCompare(b))) };
    benchPage.check?.(result);
    result.launch = { mode: gpuMode ? 'gpu' : 'swiftshader', detected: detected.why, fellBackToSwiftShader: fellBack, flags: launched.args, chromium: browser.version(), executablePath: launched.executablePath };
    // Load average before/after: on a shared 2-core box other jobs show up directly in the numbers.
    result.host = { platform: process.platform, arch: process.arch, node: process.version, cpus: cpus().length, loadavg1mBefore: loadBefore[0], loadavg1mAfter: loadavg()[0] };

    const outDir = join(benchDir, 'results');
    mkdirSync(outDir, { recursive: true });
    const outFile = join(outDir, benchPage.out);
    writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);

    console.log('');
    benchPage.report(result);
    console.log(`host: ${result.host.cpus} CPUs, 1-min load average ${result.host.loadavg1mBefore.toFixed(1)} before, ${result.host.loadavg1mAfter.toFixed(1)} after (load above the CPU count means other jobs shared the CPU)`);
    console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s; JSON: ${relative(process.cwd(), outFile) || outFile}`);
    if (!result.ok) {
      console.error(`bench failed: ${result.error}`);
      exitCode = 1;
    }
  } finally {
    await browser?.close().catch(() => undefined);
    await server.close();
  }
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`bench failed: ${error instanceof Error ? error.stack : error}`);
    process.exit(1);
  },
);
