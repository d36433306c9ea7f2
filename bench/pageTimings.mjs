#!/usr/bin/env node
/**
 * node bench/pageTimings.mjs [dist=DIR] [reps=3] [toggles=6] — the built page (`npx vite build` first), as a user
 * meets it in headless Chromium on SwiftShader:
 *  1. first visit on a throttled link (CDP Network.emulateNetworkConditions: 20 Mbit/s down, 5 up, 20 ms latency,
 *     empty caches): ms from navigation to our engine's first result (the predictions panel drawn), to the dense
 *     reference (the panel's "Dense reference" note), and when the progress bar first read full; bytes received;
 *  2. toggle latency, unthrottled: ms from clicking FastV's switch (then attention dropout's, 8 samples) to the FLOPs
 *     panel's new figure, split by the page's User Timing entries (src/ui/useRunLoop.ts, src/runtime/runner.ts):
 *     debounce + queue, engine forward + readback, dense reference, FLOP count + comparison, and the rest
 *     (React render, building the SVG panels, layout) as "draw".
 * dist=DIR serves another build (an older commit's, to compare); pages without User Timing entries get totals only.
 * Speed goals live here, not in tests: nothing here asserts a time.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from '@playwright/test';

const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.split('=')));
const dist = resolve(args.dist ?? 'dist');
const reps = Number(args.reps ?? 3);
const toggles = Number(args.toggles ?? 6);
const LINK = { offline: false, latency: 20, downloadThroughput: (20e6 / 8), uploadThroughput: (5e6 / 8) };
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png' };

if (!existsSync(join(dist, 'index.html'))) throw new Error(`${dist}/index.html is missing: run npx vite build first`);
const server = createServer((request, response) => {
  const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname)).replace(/^\/+/, '');
  const file = join(dist, path === '' ? 'index.html' : path);
  if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': statSync(file).size, 'cache-control': 'no-cache' });
  createReadStream(file).pipe(response);
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (value) => (value === null || value === undefined ? null : Math.round(value));

async function firstVisit() {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', LINK);
  let bytes = 0;
  cdp.on('Network.loadingFinished', (event) => (bytes += event.encodedDataLength));
  await page.addInitScript(() => {
    // Polls the progress bar from the first frame: when it first reads full, and what it read then.
    const seen = { fullAt: null };
    window.__progress = seen;
    const poll = () => {
      const bar = document.querySelector('[data-testid=model-progress] progress');
      if (bar && bar.max > 0 && bar.value >= bar.max && seen.fullAt === null) seen.fullAt = performance.now();
      requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
  });
  await page.goto(url);
  await page.locator('[data-testid=panel-predictions] svg').waitFor({ timeout: 300_000 });
  const firstResult = await page.evaluate(() => performance.now());
  await page.getByTestId('dense-reference').waitFor({ timeout: 300_000 });
  const dense = await page.evaluate(() => performance.now());
  const fullAt = await page.evaluate(() => window.__progress.fullAt);
  await context.close();
  return { firstResultMs: round(firstResult), denseReferenceMs: round(dense), progressFullMs: round(fullAt), bytes };
}

/** Clicks a switch and waits for the FLOPs panel's figure to be replaced; ms from the click event, and the User Timing split. */
async function toggle(page, testId) {
  await page.evaluate(() => {
    performance.clearMeasures();
    performance.clearMarks();
    const host = document.querySelector('[data-testid=panel-flops] .panel-body');
    const before = host.firstElementChild;
    window.__drawn = new Promise((done) => {
      const observer = new MutationObserver(() => {
        if (host.firstElementChild !== before) {
          observer.disconnect();
          done(performance.now());
        }
      });
      observer.observe(host, { childList: true });
    });
    // From the click event itself: Playwright's own round trips before it are not the page's latency.
    document.addEventListener('click', (event) => (window.__clickedAt = event.timeStamp), { capture: true, once: true });
  });
  await page.getByTestId(testId).click();
  return page.evaluate(async () => {
    const drawnAt = await window.__drawn;
    // Let the dense reference's and the layout's entries land.
    await new Promise((done) => setTimeout(done, 50));
    const measures = Object.fromEntries(performance.getEntriesByType('measure').map((m) => [m.name, m.duration]));
    const queued = performance.getEntriesByName('run: debounce + queue')[0];
    // The click's dispatch, the store update and React's handling of the switch, until the run loop took the request.
    if (queued) measures['click → request'] = queued.startTime - window.__clickedAt;
    const result = performance.getEntriesByName('run: result')[0];
    // The engine's own GPU time, as the timing badge shows it.
    measures['engine GPU time (timestamp queries)'] = Number.parseFloat(document.querySelector('[data-testid=timing] strong')?.textContent ?? 'NaN');
    return { totalMs: drawnAt - window.__clickedAt, measures, drawMs: result ? drawnAt - result.startTime : null };
  });
}

async function toggleLatency() {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(url);
  await page.getByTestId('dense-reference').waitFor({ timeout: 300_000 });
  const results = {};
  for (const [name, testId] of [['fastv', 'technique-fastv-toggle'], ['attention dropout (8 samples)', 'technique-attention-dropout-toggle']]) {
    const runs = [];
    for (let i = 0; i < toggles; i++) runs.push(await toggle(page, testId));
    const split = {};
    for (const key of new Set(runs.flatMap((r) => Object.keys(r.measures)))) split[key] = round(median(runs.map((r) => r.measures[key] ?? 0)));
    if (runs.every((r) => r.drawMs !== null)) split['draw (result → new figure in the DOM)'] = round(median(runs.map((r) => r.drawMs)));
    results[name] = { medianMs: round(median(runs.map((r) => r.totalMs))), allMs: runs.map((r) => round(r.totalMs)), split };
    // Leave it off for the next technique.
    if (toggles % 2 === 1) await toggle(page, testId);
  }
  await context.close();
  return results;
}

const visits = [];
for (let i = 0; i < reps; i++) visits.push(await firstVisit());
const report = {
  dist,
  link: '20 Mbit/s down, 5 Mbit/s up, 20 ms latency, empty caches',
  firstVisit: {
    medianFirstResultMs: median(visits.map((v) => v.firstResultMs)),
    medianDenseReferenceMs: median(visits.map((v) => v.denseReferenceMs)),
    visits,
  },
  toggle: await toggleLatency(),
};
console.log(JSON.stringify(report, null, 2));
await browser.close();
server.close();
