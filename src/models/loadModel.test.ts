import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { byteTokenizer } from './byteTokenizer';
import { loadModel, type LoadModelOptions } from './loadModel';
import { createModelFileCache, type DiskCache } from './modelCache';
import type { LoadProgress } from './modelFiles';
import { ModelLoadError, type ModelLoadProblem } from './modelLoadError';
import { HUB_ENDPOINT, type DroppedFile, type HubSource, type ModelSource } from './modelSource';
import { charTokenizerJson } from './tokenizer.testutil';

const publicDir = new URL('../../public/', import.meta.url);
const tinyDir = new URL('models/tiny-random-gpt2/', publicDir);
const tinyFile = (name: string) => readFileSync(new URL(name, tinyDir));
const tinyConfig = JSON.parse(tinyFile('config.json').toString('utf8'));
const manifest = JSON.parse(readFileSync(new URL('models/manifest.json', publicDir), 'utf8'));
const tinySizes = manifest.models['tiny-random-gpt2'].files as Record<string, { size: number; sha256: string }>;

const sizeOf = (file: string) => tinyFile(file).byteLength;
/** What the tiny model's folder served in hub layout downloads: it has no tokenizer files. */
const hubTotal = sizeOf('config.json') + sizeOf('model.safetensors') + sizeOf('onnx/model.onnx');

const bundled: ModelSource = { kind: 'bundled', name: 'tiny-random-gpt2' };
const HUB = 'http://hub.test';
const hub: HubSource = { kind: 'hub', repo: 'tests/tiny-random-gpt2', revision: 'v1', endpoint: HUB };
const hubUrl = (file: string) => `${HUB}/tests/tiny-random-gpt2/resolve/v1/${file}`;
const bundledUrl = (file: string) => `./models/tiny-random-gpt2/${file}`;

type Serve = () => Response | Promise<Response>;

/**
 * A fetch that serves public/ for './…' URLs and the tiny model's folder in hub layout under http://hub.test
 * (`/{repo}/resolve/{revision}/{file}`), with per-URL overrides; records what was asked for.
 */
function fakeFetch(overrides: Record<string, Serve | Uint8Array | object> = {}, options: { contentLength?: boolean } = {}) {
  const requested: string[] = [];
  const fetchImpl = (async (input: RequestInfo | URL) => {
    const url = String(input);
    requested.push(url);
    const override = overrides[url];
    if (typeof override === 'function') return (override as Serve)();
    if (override instanceof Uint8Array) return new Response(new Uint8Array(override));
    if (override) return new Response(JSON.stringify(override));
    const hubPath = /^http:\/\/hub\.test\/(?:[^/]+\/)?([^/]+)\/resolve\/[^/]+\/(.+)$/.exec(url);
    const file = hubPath ? new URL(`models/${hubPath[1]}/${hubPath[2]}`, publicDir) : new URL(url.replace(/^\.\//, ''), publicDir);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      return new Response('Entry not found', { status: 404 });
    }
    const headers: Record<string, string> = options.contentLength === false ? {} : { 'Content-Length': String(bytes.byteLength) };
    return new Response(new Uint8Array(bytes), { headers });
  }) as typeof fetch;
  return { fetchImpl, requested };
}

function load(source: ModelSource, fetchImpl: typeof fetch, options: LoadModelOptions = {}) {
  return loadModel(source, { fetch: fetchImpl, bundledRoot: './models', ...options });
}

async function loadError(promise: Promise<unknown>): Promise<ModelLoadError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ModelLoadError);
  return error as ModelLoadError;
}

async function expectProblem(promise: Promise<unknown>, problem: Partial<ModelLoadProblem>, message: string | RegExp) {
  const error = await loadError(promise);
  expect(error.problem).toMatchObject(problem);
  expect(error.message).toMatch(message);
  return error;
}

function mapCache(): DiskCache & { entries: Map<string, ArrayBuffer>; puts: string[] } {
  const entries = new Map<string, ArrayBuffer>();
  const puts: string[] = [];
  return {
    entries,
    puts,
    match: (async (key: RequestInfo | URL) => {
      const bytes = entries.get(String(key));
      return bytes && new Response(bytes.slice(0), { headers: { 'Content-Length': String(bytes.byteLength) } });
    }) as Cache['match'],
    put: async (key: RequestInfo | URL, response: Response) => {
      puts.push(String(key));
      entries.set(String(key), await response.arrayBuffer());
    },
  };
}

describe('loadModel: the three sources', () => {
  it('loads a bundled model, reading only the files its manifest lists', async () => {
    const { fetchImpl, requested } = fakeFetch();
    const model = await load(bundled, fetchImpl);
    expect(model.name).toBe('tiny-random-gpt2');
    expect(model.config).toMatchObject({ model_type: 'gpt2', n_layer: 4, n_head: 4, n_embd: 64, n_positions: 1024, vocab_size: 256, layer_norm_epsilon: 1e-5 });
    expect(model.weights.layers).toHaveLength(4);
    expect(model.onnx?.byteLength).toBe(tinySizes['onnx/model.onnx']!.size);
    expect(model.tokenizer).toBe(byteTokenizer);
    expect(model.notices).toEqual([]);
    expect(requested.sort()).toEqual([
      './models/manifest.json',
      bundledUrl('config.json'),
      bundledUrl('model.safetensors'),
      bundledUrl('onnx/model.onnx'),
    ]);
  });

  it('loads a hub repository in hub layout; optional files that answer 404 are simply absent', async () => {
    const { fetchImpl, requested } = fakeFetch({ [hubUrl('onnx/model.onnx')]: () => new Response('Entry not found', { status: 404 }) });
    const model = await load(hub, fetchImpl);
    expect(model.name).toBe('tests/tiny-random-gpt2@v1 (Hugging Face hub at http://hub.test)');
    expect(model.onnx).toBeNull();
    expect(model.tokenizer).toBe(byteTokenizer);
    expect(requested.sort()).toEqual(
      ['config.json', 'eval.json', 'model.safetensors', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'].map(hubUrl),
    );
  });

  it('loads a Hugging Face ViT from the hub: its image processor\'s normalisation, labels, and transposed Linear weights', async () => {
    const vitUrl = (file: string) => `${HUB}/tests/shapes-vit/resolve/main/${file}`;
    const { fetchImpl, requested } = fakeFetch({ [vitUrl('preprocessor_config.json')]: { do_rescale: true, rescale_factor: 1 / 255, image_mean: [0.485, 0.456, 0.406], image_std: [0.229, 0.224, 0.225] } });
    const model = await load({ kind: 'hub', repo: 'tests/shapes-vit', revision: 'main', endpoint: HUB }, fetchImpl);
    expect(model.config).toMatchObject({ model_type: 'vit', imageTokens: 65, labels: ['one', 'two', 'three'], image: { mean: [0.485, 0.456, 0.406], cls: true } });
    expect(model.weights.tokens).toBeNull();
    // The patch kernel [out 128, in 3·8·8] is laid out [192, 128] for the engine; the classifier keeps its bias.
    expect(model.weights.patches!.weight).toHaveLength(192 * 128);
    expect(model.weights.patches!.positions).toHaveLength(65 * 128);
    expect(model.weights.headBias).toHaveLength(3);
    // An image model's eval set comes along: its images are what the page runs it on.
    expect(requested.sort()).toEqual(['config.json', 'eval.json', 'model.safetensors', 'onnx/model.onnx', 'preprocessor_config.json'].map(vitUrl));
    expect(model.evalSet).toMatchObject({ items: expect.any(Array) });
    expect(model.tokenizer.tokenLabel(2)).toBe('three');
  });

  it('reads eval.json, counting it in the progress total', async () => {
    const vqa = fakeFetch();
    const reports: LoadProgress[] = [];
    const model = await load({ kind: 'bundled', name: 'shapes-vqa' }, vqa.fetchImpl, { onProgress: (progress) => reports.push(progress) });
    expect(vqa.requested).toContain('./models/shapes-vqa/eval.json');
    expect(model.evalSet).toMatchObject({ items: expect.any(Array), images: expect.any(Object) });
    const vqaFiles = manifest.models['shapes-vqa'].files as Record<string, { size: number }>;
    const read = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'eval.json'];
    const total = read.reduce((sum, file) => sum + vqaFiles[file]!.size, 0);
    expect(reports.at(-1)).toEqual({ loadedBytes: total, totalBytes: total });

    // A text model's eval set comes along too: its prompts are offered with their expected answers.
    const text = fakeFetch();
    expect((await load({ kind: 'bundled', name: 'recall-lm' }, text.fetchImpl)).evalSet).toMatchObject({ items: expect.any(Array) });
    expect(text.requested).toContain('./models/recall-lm/eval.json');
    // A model without one is loaded without it.
    expect((await load({ kind: 'bundled', name: 'tiny-random-gpt2' }, fakeFetch().fetchImpl)).evalSet).toBeNull();
  });

  it('builds hub URLs from the endpoint, repository and escaped revision', async () => {
    const { fetchImpl, requested } = fakeFetch({ [`${HUB_ENDPOINT}/gpt2/resolve/refs%2Fpr%2F1/config.json`]: () => new Response('', { status: 404 }) });
    await loadError(load({ kind: 'hub', repo: 'gpt2', revision: 'refs/pr/1', endpoint: HUB_ENDPOINT }, fetchImpl));
    expect(requested).toEqual([`${HUB_ENDPOINT}/gpt2/resolve/refs%2Fpr%2F1/config.json`]);
  });

  it('uses tokenizer.json when the model has one', async () => {
    const { fetchImpl } = fakeFetch({ [hubUrl('tokenizer.json')]: charTokenizerJson(), [hubUrl('tokenizer_config.json')]: { unk_token: '<unk>' } });
    const model = await load(hub, fetchImpl);
    expect(model.tokenizer.encode('ab a')).toEqual([1, 2, 27, 1]);
    expect([27, 28].map(model.tokenizer.tokenLabel)).toEqual(['␠', '⏎']);
  });

  it('loads dropped files, matched by name whether a folder or loose files were dropped', async () => {
    const dropped = (paths: string[]): ModelSource => ({
      kind: 'files',
      label: 'my-model',
      dropId: 1,
      files: paths.map((path): DroppedFile => ({ path, file: new File([tinyFile(path.replace(/^my-model\//, '').replace(/^model\.onnx$/, 'onnx/model.onnx'))], path) })),
    });
    const { fetchImpl, requested } = fakeFetch();
    const cache = mapCache();
    const folder = await load(dropped(['my-model/config.json', 'my-model/model.safetensors', 'my-model/onnx/model.onnx', 'my-model/README.md']), fetchImpl, {
      cache: createModelFileCache(cache),
    });
    expect(folder.onnx?.byteLength).toBe(tinySizes['onnx/model.onnx']!.size);
    const loose = await load(dropped(['model.safetensors', 'config.json', 'model.onnx']), fetchImpl);
    expect(loose.onnx?.byteLength).toBe(tinySizes['onnx/model.onnx']!.size);
    expect(requested).toEqual([]);
    expect(cache.puts).toEqual([]); // the files are already on this computer

    // Files from this computer: no repository to check, and the model is not called "model" twice.
    const error = await expectProblem(
      load(dropped(['my-model/model.safetensors']), fetchImpl),
      { kind: 'missing-local-file', file: 'config.json' },
      "Could not load my-model — 1 file from this computer: config.json is not among them. Choose or drop the model's folder, or at least its config.json and model.safetensors together.",
    );
    expect(error.message).not.toMatch(/repository/);
  });
});

describe('loadModel: typed errors, each saying what to do', () => {
  it('a bundled name this build does not ship', async () => {
    const { fetchImpl } = fakeFetch();
    await expectProblem(
      load({ kind: 'bundled', name: 'no-such-model' }, fetchImpl),
      { kind: 'unknown-model', name: 'no-such-model', bundled: ['recall-lm', 'shapes-vit', 'shapes-vqa', 'tiny-random-gpt2'] },
      /"no-such-model" is not a model bundled with this page\. Choose one of the bundled models: recall-lm, shapes-vit, shapes-vqa, tiny-random-gpt2/,
    );
  });

  it('a missing file, with its URL and HTTP status', async () => {
    const { fetchImpl } = fakeFetch({ [hubUrl('model.safetensors')]: () => new Response('', { status: 404 }) });
    const error = await expectProblem(load(hub, fetchImpl), { kind: 'missing-file', url: hubUrl('model.safetensors'), status: 404 }, `${hubUrl('model.safetensors')} answered HTTP 404`);
    expect(error.message).toMatch(/Check the repository id and revision/);
    const gated = fakeFetch({ [hubUrl('config.json')]: () => new Response('', { status: 401 }) });
    await expectProblem(load(hub, gated.fetchImpl), { kind: 'missing-file', status: 401 }, /private or gated/);
  });

  it('a network failure, keeping the cause', async () => {
    const offline = new TypeError('Failed to fetch');
    const { fetchImpl } = fakeFetch({ [bundledUrl('model.safetensors')]: () => Promise.reject(offline) });
    const error = await expectProblem(load(bundled, fetchImpl), { kind: 'network', url: bundledUrl('model.safetensors') }, /failed \(Failed to fetch\)\. Check the connection/);
    expect(error.cause).toBe(offline);
  });

  it('a config.json that is not JSON', async () => {
    const { fetchImpl } = fakeFetch({ [hubUrl('config.json')]: () => new Response('{ n_layer: 4') });
    await expectProblem(load(hub, fetchImpl), { kind: 'invalid-file', url: hubUrl('config.json') }, `${hubUrl('config.json')} is not valid JSON`);
  });

  it('an unsupported architecture, naming what is supported, before the weights are downloaded', async () => {
    const { fetchImpl, requested } = fakeFetch({ [hubUrl('config.json')]: { ...tinyConfig, model_type: 'llama' } });
    await expectProblem(
      load(hub, fetchImpl),
      { kind: 'unsupported-architecture', modelType: 'llama' },
      /unsupported architecture "llama": this engine runs model_type "gpt2", "vit", "shapes-vqa" .*Choose a GPT-2 or ViT model/,
    );
    expect(requested).toEqual([hubUrl('config.json')]);
  });

  it.each([
    ['a config that is not an object', 'gpt2', 'config.json is not a JSON object'],
    ['a missing n_head', { ...tinyConfig, n_head: undefined }, '"n_head" must be a positive integer, got undefined'],
    ['a fractional n_layer', { ...tinyConfig, n_layer: 2.5 }, '"n_layer" must be a positive integer, got 2.5'],
    ['a zero epsilon', { ...tinyConfig, layer_norm_epsilon: 0 }, '"layer_norm_epsilon" must be a positive number'],
    ['heads that do not divide n_embd', { ...tinyConfig, n_head: 3 }, 'the width (64) must be divisible by the number of heads (3)'],
    ['an unsupported head size', { ...tinyConfig, n_head: 32 }, 'head size 2 is not supported'],
  ])('%s', async (_, json, message) => {
    const { fetchImpl } = fakeFetch({ [hubUrl('config.json')]: () => new Response(JSON.stringify(json)) });
    const error = await expectProblem(load(hub, fetchImpl), { kind: 'invalid-config', url: hubUrl('config.json') }, message);
    expect(error.message).toMatch(/Fix config\.json, or choose another model\.$/);
  });

  it('a truncated or corrupt safetensors file', async () => {
    const weights = tinyFile('model.safetensors');
    for (const bytes of [new Uint8Array(4), weights.subarray(0, weights.byteLength / 2), Uint8Array.from(weights).fill(0x7b, 8, 12)]) {
      const { fetchImpl } = fakeFetch({ [hubUrl('model.safetensors')]: bytes });
      await expectProblem(load(hub, fetchImpl), { kind: 'corrupt-safetensors', url: hubUrl('model.safetensors') }, `${hubUrl('model.safetensors')}: `);
    }
  });

  it('weights of the wrong shape for the config', async () => {
    const { fetchImpl } = fakeFetch({ [hubUrl('config.json')]: { ...tinyConfig, vocab_size: 300 } });
    await expectProblem(
      load(hub, fetchImpl),
      { kind: 'tensor-mismatch', url: hubUrl('model.safetensors') },
      /tensor "wte\.weight" has shape \[256, 64\], expected \[300, 64\].*take both from the same checkpoint/,
    );
  });

  it('a model too large for the device, naming the limit, before the weights are downloaded', async () => {
    // The tiny model's largest tensor is wpe: 1024 positions × 64 × 4 bytes = 256 KiB.
    const { fetchImpl, requested } = fakeFetch();
    await expectProblem(
      load(hub, fetchImpl, { limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 128 * 1024 } }),
      { kind: 'too-large', limit: 'maxStorageBufferBindingSize', tensor: 'position embedding', bytes: 262144, allowed: 131072 },
      /largest tensor, "position embedding" \(256\.0 KiB as float32\), is over this GPU's maxStorageBufferBindingSize of 128\.0 KiB/,
    );
    await expectProblem(load(hub, fetchImpl, { limits: { maxBufferSize: 1000, maxStorageBufferBindingSize: 1000 } }), { kind: 'too-large', limit: 'maxBufferSize' }, /maxBufferSize of 1000 B/);
    expect(requested.filter((url) => !url.endsWith('config.json'))).toEqual([]);
    await load(hub, fetchImpl, { limits: { maxBufferSize: 262144, maxStorageBufferBindingSize: 262144 } });
  });

  it('a bundled file that does not match the manifest hash', async () => {
    const changed = Uint8Array.from(tinyFile('config.json'));
    changed[0] = '['.charCodeAt(0); // was '{': same size, different hash
    const { fetchImpl } = fakeFetch({ [bundledUrl('config.json')]: changed });
    const error = await expectProblem(
      load(bundled, fetchImpl),
      { kind: 'hash-mismatch', file: 'config.json', expected: tinySizes['config.json']!.sha256 },
      new RegExp(`${bundledUrl('config.json').replaceAll('.', '\\.')} has sha256 [0-9a-f]{64}, but the manifest expects ${tinySizes['config.json']!.sha256}.*make_manifest`),
    );
    expect(error.problem).toHaveProperty('actual', expect.not.stringMatching(tinySizes['config.json']!.sha256));
  });

  it('a tokenizer.json that is broken or does not fit the model', async () => {
    const tooBig = fakeFetch({ [hubUrl('tokenizer.json')]: charTokenizerJson(300) });
    await expectProblem(load(hub, tooBig.fetchImpl), { kind: 'invalid-tokenizer', url: hubUrl('tokenizer.json') }, /token ids up to 299, but config\.json's vocab_size is 256/);
    const unknownModel = fakeFetch({ [hubUrl('tokenizer.json')]: { ...charTokenizerJson(), model: { type: 'NoSuchModel' } } });
    await expectProblem(load(hub, unknownModel.fetchImpl), { kind: 'invalid-tokenizer' }, /tokenizer\.json could not be read/);
    const notJson = fakeFetch({ [hubUrl('tokenizer.json')]: () => new Response('<html>') });
    await expectProblem(load(hub, notJson.fetchImpl), { kind: 'invalid-file', url: hubUrl('tokenizer.json') }, /is not valid JSON/);
  });
});

describe('loadModel: progress across all files', () => {
  it('knows the total from the manifest from the first report', async () => {
    const reports: LoadProgress[] = [];
    const { fetchImpl } = fakeFetch();
    await load(bundled, fetchImpl, { onProgress: (progress) => reports.push(progress) });
    const total = tinySizes['config.json']!.size + tinySizes['model.safetensors']!.size + tinySizes['onnx/model.onnx']!.size;
    expect(reports.length).toBeGreaterThan(3);
    expect(reports.every((report) => report.totalBytes === total)).toBe(true);
    expect(reports.map((r) => r.loadedBytes)).toEqual([...reports.map((r) => r.loadedBytes)].sort((a, b) => a - b));
    expect(reports.at(-1)).toEqual({ loadedBytes: total, totalBytes: total });
  });

  it('uses Content-Length once every file has answered, and is indeterminate before', async () => {
    const reports: LoadProgress[] = [];
    const { fetchImpl } = fakeFetch();
    await load(hub, fetchImpl, { onProgress: (progress) => reports.push(progress) });
    const firstKnown = reports.findIndex((report) => report.totalBytes !== null);
    expect(firstKnown).toBeGreaterThan(0);
    expect(reports.slice(0, firstKnown).every((report) => report.loadedBytes <= sizeOf('config.json'))).toBe(true);
    // Absent optional files (404) drop out of the total; the rest are counted in full.
    expect(reports.slice(firstKnown).every((report) => report.totalBytes === hubTotal)).toBe(true);
    expect(reports.at(-1)).toEqual({ loadedBytes: hubTotal, totalBytes: hubTotal });
  });

  it('stays indeterminate without Content-Length until the last body ends', async () => {
    const reports: LoadProgress[] = [];
    const { fetchImpl } = fakeFetch({}, { contentLength: false });
    await load(hub, fetchImpl, { onProgress: (progress) => reports.push(progress) });
    expect(reports.slice(0, -1).every((report) => report.totalBytes === null)).toBe(true);
    expect(reports.at(-1)).toEqual({ loadedBytes: hubTotal, totalBytes: hubTotal });
  });
});

describe('loadModel: the model cache', () => {
  it('a second load of a hub model reads every file from the cache, keyed by full URL', async () => {
    const disk = mapCache();
    const first = fakeFetch();
    await load(hub, first.fetchImpl, { cache: createModelFileCache(disk) });
    expect(disk.puts.sort()).toEqual(['config.json', 'model.safetensors', 'onnx/model.onnx'].map(hubUrl));

    const second = fakeFetch();
    const reports: LoadProgress[] = [];
    const model = await load(hub, second.fetchImpl, { cache: createModelFileCache(disk), onProgress: (p) => reports.push(p) });
    expect(model.weights.layers).toHaveLength(4);
    // Files the repository lacks are asked for again: a 404 is not cached.
    expect(second.requested.sort()).toEqual(['eval.json', 'tokenizer.json', 'tokenizer_config.json'].map(hubUrl));
    expect(reports.at(-1)).toEqual({ loadedBytes: hubTotal, totalBytes: hubTotal });

    const otherRevision = fakeFetch();
    await load({ ...hub, revision: 'v2' }, otherRevision.fetchImpl, { cache: createModelFileCache(disk) });
    expect(otherRevision.requested).toContain(`${HUB}/tests/tiny-random-gpt2/resolve/v2/model.safetensors`);
  });

  it('keys bundled files by their manifest hash, and refetches a cached copy that no longer matches', async () => {
    const disk = mapCache();
    await load(bundled, fakeFetch().fetchImpl, { cache: createModelFileCache(disk) });
    const weightsKey = `${bundledUrl('model.safetensors')}?sha256=${tinySizes['model.safetensors']!.sha256}`;
    expect(disk.puts).toContain(weightsKey);

    const second = fakeFetch();
    await load(bundled, second.fetchImpl, { cache: createModelFileCache(disk) });
    expect(second.requested).toEqual(['./models/manifest.json']);

    disk.entries.set(weightsKey, new Uint8Array(16).buffer);
    const third = fakeFetch();
    const model = await load(bundled, third.fetchImpl, { cache: createModelFileCache(disk) });
    expect(model.weights.layers).toHaveLength(4);
    expect(third.requested.sort()).toEqual(['./models/manifest.json', bundledUrl('model.safetensors')]);
    expect(disk.entries.get(weightsKey)?.byteLength).toBe(tinySizes['model.safetensors']!.size);
  });

  it('when the storage quota is exceeded, says so and keeps the files in memory: the model still loads', async () => {
    const full: DiskCache = {
      match: (async () => undefined) as Cache['match'],
      put: async () => {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      },
    };
    const cache = createModelFileCache(full);
    const first = fakeFetch();
    const model = await load(hub, first.fetchImpl, { cache });
    expect(model.weights.layers).toHaveLength(4);
    expect(model.notices).toEqual([
      'Model files are kept in memory for this visit only, not on disk: the browser storage quota is exceeded (free some space in the site settings to keep models between visits).',
    ]);
    const again = fakeFetch();
    await load(hub, again.fetchImpl, { cache });
    expect(again.requested.sort()).toEqual(['eval.json', 'tokenizer.json', 'tokenizer_config.json'].map(hubUrl));
  });

  it('works without a disk cache at all', async () => {
    const cache = createModelFileCache(null, 'this page cannot use the browser cache');
    const model = await load(hub, fakeFetch().fetchImpl, { cache });
    expect(model.notices).toEqual(['Model files are kept in memory for this visit only, not on disk: this page cannot use the browser cache.']);
  });
});
