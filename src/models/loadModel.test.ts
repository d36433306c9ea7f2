import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelConfigError } from './config';
import { ModelWeightsError } from './gpt2Weights';
import { loadBundledModel, ModelLoadError } from './loadModel';
import { SafetensorsError } from './safetensors';

const publicDir = new URL('../../public/', import.meta.url);
const tinyConfig = JSON.parse(readFileSync(new URL('models/tiny-random-gpt2/config.json', publicDir), 'utf8'));

/** A fetch that serves public/ for './…' URLs, with per-URL overrides; records what was asked for. */
function fakeFetch(overrides: Record<string, () => Response | Promise<Response>> = {}) {
  const requested: string[] = [];
  const fetchImpl = (async (input: RequestInfo | URL) => {
    const url = String(input);
    requested.push(url);
    const override = overrides[url];
    if (override) return override();
    try {
      return new Response(readFileSync(new URL(url.replace(/^\.\//, ''), publicDir)));
    } catch {
      return new Response('not found', { status: 404, statusText: 'Not Found' });
    }
  }) as typeof fetch;
  return { fetchImpl, requested };
}

async function loadError(promise: Promise<unknown>): Promise<ModelLoadError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ModelLoadError);
  return error as ModelLoadError;
}

const configUrl = './models/tiny-random-gpt2/config.json';
const weightsUrl = './models/tiny-random-gpt2/model.safetensors';
const jsonResponse = (json: unknown) => () => new Response(JSON.stringify(json));

describe('loadBundledModel', () => {
  it('loads the bundled tiny model', async () => {
    const { fetchImpl, requested } = fakeFetch();
    const model = await loadBundledModel('./models/tiny-random-gpt2/', fetchImpl);
    expect(model.name).toBe('tiny-random-gpt2');
    expect(model.onnxUrl).toBe('./models/tiny-random-gpt2/onnx/model.onnx');
    expect(model.config).toEqual({
      model_type: 'gpt2',
      n_layer: 4,
      n_head: 4,
      n_embd: 64,
      n_positions: 1024,
      vocab_size: 256,
      layer_norm_epsilon: 1e-5,
    });
    expect(model.weights.layers).toHaveLength(4);
    expect(requested.sort()).toEqual([configUrl, weightsUrl]);
  });

  it('reports a missing file with its URL and HTTP status', async () => {
    const { fetchImpl } = fakeFetch();
    const error = await loadError(loadBundledModel('./models/no-such-model', fetchImpl));
    expect(error.url).toBe('./models/no-such-model/config.json');
    expect(error.message).toBe(
      'could not load model "no-such-model": ./models/no-such-model/config.json answered HTTP 404 Not Found',
    );
  });

  it('reports a network failure, keeping the cause', async () => {
    const offline = new TypeError('Failed to fetch');
    const { fetchImpl } = fakeFetch({ [weightsUrl]: () => Promise.reject(offline) });
    const error = await loadError(loadBundledModel('./models/tiny-random-gpt2', fetchImpl));
    expect(error.url).toBe(weightsUrl);
    expect(error.message).toContain(`fetching ${weightsUrl} failed (Failed to fetch)`);
    expect(error.cause).toBe(offline);
  });

  it('reports a config.json that is not JSON', async () => {
    const { fetchImpl } = fakeFetch({ [configUrl]: () => new Response('{ n_layer: 4') });
    const error = await loadError(loadBundledModel('./models/tiny-random-gpt2', fetchImpl));
    expect(error.message).toContain(`${configUrl} is not valid JSON`);
  });

  it.each([
    ['a config that is not an object', 'gpt2', 'config.json is not a JSON object'],
    ['another architecture', { ...tinyConfig, model_type: 'llama' }, 'unsupported architecture "llama"'],
    ['a missing n_head', { ...tinyConfig, n_head: undefined }, '"n_head" must be a positive integer, got undefined'],
    ['a fractional n_layer', { ...tinyConfig, n_layer: 2.5 }, '"n_layer" must be a positive integer, got 2.5'],
    ['a zero epsilon', { ...tinyConfig, layer_norm_epsilon: 0 }, '"layer_norm_epsilon" must be a positive number'],
    ['heads that do not divide n_embd', { ...tinyConfig, n_head: 3 }, 'n_embd (64) must be divisible by n_head (3)'],
    ['an unsupported head size', { ...tinyConfig, n_head: 32 }, 'head size 2 is not supported'],
  ])('reports %s as a config error', async (_, json, message) => {
    const { fetchImpl } = fakeFetch({ [configUrl]: jsonResponse(json) });
    const error = await loadError(loadBundledModel('./models/tiny-random-gpt2', fetchImpl));
    expect(error.url).toBe(configUrl);
    expect(error.cause).toBeInstanceOf(ModelConfigError);
    expect(error.message).toContain(message);
  });

  it('reports a corrupt safetensors file by URL', async () => {
    const { fetchImpl } = fakeFetch({ [weightsUrl]: () => new Response(new Uint8Array(4)) });
    const error = await loadError(loadBundledModel('./models/tiny-random-gpt2', fetchImpl));
    expect(error.url).toBe(weightsUrl);
    expect(error.cause).toBeInstanceOf(SafetensorsError);
    expect(error.message).toBe(
      `could not load model "tiny-random-gpt2": ${weightsUrl}: the file is 4 bytes, shorter than the 8-byte header length`,
    );
  });

  it('reports weights that do not fit the config', async () => {
    const { fetchImpl } = fakeFetch({ [configUrl]: jsonResponse({ ...tinyConfig, vocab_size: 50257 }) });
    const error = await loadError(loadBundledModel('./models/tiny-random-gpt2', fetchImpl));
    expect(error.url).toBe(weightsUrl);
    expect(error.cause).toBeInstanceOf(ModelWeightsError);
    expect(error.message).toContain('tensor "wte.weight" has shape [256, 64], expected [50257, 64]');
  });
});
