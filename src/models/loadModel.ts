/**
 * The one model loader: a bundled folder, a Hugging Face hub repository or dropped files, all in Hugging Face
 * layout. config.json comes first, so an unsupported or too-large model fails before its weights are downloaded.
 */
import { ModelConfigError, parseModelConfig, readsPreprocessorConfig, UnsupportedArchitectureError, type TransformerConfig } from './config';
import { ModelWeightsError, uploadedTensors, weightsFromSafetensors, type TransformerWeights } from './modelWeights';
import type { ModelFileCache } from './modelCache';
import {
  bundledLocation,
  droppedLocation,
  fetchManifest,
  hubLocation,
  MODEL_FILES,
  ProgressTracker,
  readModelFile,
  type LoadProgress,
  type ModelFileName,
  type ModelLocation,
  type ReadContext,
} from './modelFiles';
import { ModelLoadError, type BufferLimitName, type BufferLimits } from './modelLoadError';
import { describeModelSource, type ModelSource } from './modelSource';
import { parseSafetensors, SafetensorsError } from './safetensors';
import { createTokenizer, labelTokenizer, type ModelTokenizer } from './tokenizer';

export interface LoadedModel {
  /** What the UI calls it, e.g. "tiny-random-gpt2" or "gpt2@main (Hugging Face hub)". */
  name: string;
  config: TransformerConfig;
  weights: TransformerWeights;
  tokenizer: ModelTokenizer;
  /** onnx/model.onnx for the onnxruntime-web reference; null when the model has none (no dense reference then). */
  onnx: Uint8Array | null;
  /**
   * eval.json, parsed; null for a model without one. An image model's images are what the page runs it on; a text
   * model's prompts (recall-lm's) are offered as prompts, with the answers they expect.
   */
  evalSet: unknown;
  /** Things the user should know that did not stop the load (e.g. files kept in memory only). */
  notices: string[];
}

export interface LoadModelOptions {
  fetch?: typeof fetch;
  /** Where downloads are kept between visits; without one every load downloads. Dropped files are never cached. */
  cache?: ModelFileCache;
  onProgress?: (progress: LoadProgress) => void;
  /** The device's limits; the model is refused, naming the limit, if its largest tensor does not fit. */
  limits?: BufferLimits;
  /** The folder holding manifest.json and the bundled model folders; the page's own models/ by default. */
  bundledRoot?: string;
}

const REQUIRED_FILES: ReadonlySet<ModelFileName> = new Set([MODEL_FILES.config, MODEL_FILES.weights]);

export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const name = describeModelSource(source);
  const location = await locate(source, name, options.bundledRoot ?? `${import.meta.env.BASE_URL}models`, fetchImpl);

  const abort = new AbortController();
  const context: ReadContext = {
    modelLabel: name,
    local: source.kind === 'files',
    cache: source.kind === 'files' ? undefined : options.cache,
    progress: new ProgressTracker(expectedSizes(location), options.onProgress),
    signal: abort.signal,
    notices: new Set(),
  };
  const read = (file: ModelFileName) => readModelFile(file, location.locate(file), REQUIRED_FILES.has(file), context);
  const where = (file: ModelFileName) => location.locate(file)?.where ?? file;

  const configUrl = where(MODEL_FILES.config);
  const configJson = parseJson(name, configUrl, (await read(MODEL_FILES.config))!);
  const readsPreprocessor = readsPreprocessorConfig(configJson);
  if (!readsPreprocessor) context.progress.finished(MODEL_FILES.preprocessorConfig, false);
  const preprocessorBytes = readsPreprocessor ? await read(MODEL_FILES.preprocessorConfig) : null;
  const preprocessor = preprocessorBytes ? parseJson(name, where(MODEL_FILES.preprocessorConfig), preprocessorBytes) : undefined;
  const config = parseConfig(name, configUrl, configJson, preprocessor);
  if (options.limits) checkLimits(name, config, options.limits);

  // A classifier reads no text: its tokenizer files, if any, are not needed.
  const textFiles = [MODEL_FILES.tokenizer, MODEL_FILES.tokenizerConfig];
  if (config.labels) for (const file of textFiles) context.progress.finished(file, false);
  const readText = (file: ModelFileName) => (config.labels ? Promise.resolve(null) : read(file));
  const [weightsBytes, tokenizerBytes, tokenizerConfigBytes, onnxBytes, evalSetBytes] = await Promise.all([
    read(MODEL_FILES.weights),
    ...textFiles.map(readText),
    read(MODEL_FILES.onnx),
    read(MODEL_FILES.evalSet),
  ]).catch((error: unknown) => {
    abort.abort(); // the first failure is the answer: stop the other downloads
    throw error;
  });

  const weightsUrl = where(MODEL_FILES.weights);
  let weights: TransformerWeights;
  try {
    // Named by URL so safetensors and weight errors say which file they are about.
    weights = weightsFromSafetensors(parseSafetensors(weightsBytes!, weightsUrl), config);
  } catch (error) {
    if (error instanceof SafetensorsError) throw new ModelLoadError(name, { kind: 'corrupt-safetensors', url: weightsUrl }, error.message, { cause: error });
    if (error instanceof ModelWeightsError) throw new ModelLoadError(name, { kind: 'tensor-mismatch', url: weightsUrl }, error.message, { cause: error });
    throw error;
  }

  const tokenizerUrl = where(MODEL_FILES.tokenizer);
  let tokenizer: ModelTokenizer;
  try {
    tokenizer = config.labels
      ? labelTokenizer(config.labels)
      : createTokenizer(
          tokenizerBytes ? parseJson(name, tokenizerUrl, tokenizerBytes) : undefined,
          tokenizerConfigBytes ? parseJson(name, where(MODEL_FILES.tokenizerConfig), tokenizerConfigBytes) : undefined,
          config.vocab_size,
        );
  } catch (error) {
    if (error instanceof ModelLoadError) throw error;
    throw new ModelLoadError(name, { kind: 'invalid-tokenizer', url: tokenizerUrl }, describe(error), { cause: error });
  }

  const evalSet = evalSetBytes ? parseJson(name, where(MODEL_FILES.evalSet), evalSetBytes) : null;
  return { name, config, weights, tokenizer, onnx: onnxBytes ? new Uint8Array(onnxBytes) : null, evalSet, notices: [...context.notices] };
}

async function locate(source: ModelSource, name: string, bundledRoot: string, fetchImpl: typeof fetch): Promise<ModelLocation> {
  switch (source.kind) {
    case 'hub':
      return hubLocation(source, fetchImpl);
    case 'files':
      return droppedLocation(source);
    case 'bundled': {
      const root = bundledRoot.replace(/\/+$/, '');
      const manifest = await fetchManifest(root, name, fetchImpl);
      if (!manifest.models[source.name]) {
        const bundled = Object.keys(manifest.models);
        throw new ModelLoadError(name, { kind: 'unknown-model', name: source.name, bundled }, `"${source.name}" is not a model bundled with this page`);
      }
      return bundledLocation(root, source.name, manifest, fetchImpl);
    }
  }
}

/** Files the source may have, sized where it knows (manifest, dropped files); files it lacks are not waited for. */
function expectedSizes(location: ModelLocation): Map<ModelFileName, number | null> {
  const sizes = new Map<ModelFileName, number | null>();
  for (const file of Object.values(MODEL_FILES)) {
    const found = location.locate(file);
    if (found) sizes.set(file, found.size);
  }
  return sizes;
}

function parseConfig(name: string, url: string, json: unknown, preprocessor: unknown): TransformerConfig {
  try {
    return parseModelConfig(json, preprocessor);
  } catch (error) {
    if (error instanceof UnsupportedArchitectureError) {
      throw new ModelLoadError(name, { kind: 'unsupported-architecture', url, modelType: error.modelType }, error.message, { cause: error });
    }
    if (error instanceof ModelConfigError) throw new ModelLoadError(name, { kind: 'invalid-config', url }, error.message, { cause: error });
    throw error;
  }
}

function parseJson(name: string, url: string, bytes: ArrayBuffer): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ModelLoadError(name, { kind: 'invalid-file', url }, `${url} is not valid JSON (${describe(error)})`, { cause: error });
  }
}

/**
 * The engine uploads each tensor as float32 into its own storage buffer, so the largest one must fit both the
 * buffer size and the storage binding size the device allows.
 */
function checkLimits(name: string, config: TransformerConfig, limits: BufferLimits): void {
  const largest = uploadedTensors(config)
    .map(({ name: tensor, elements }) => ({ tensor, bytes: 4 * elements }))
    .reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const limitNames: BufferLimitName[] = ['maxBufferSize', 'maxStorageBufferBindingSize'];
  for (const limit of limitNames) {
    const allowed = limits[limit];
    if (largest.bytes > allowed) {
      throw new ModelLoadError(
        name,
        { kind: 'too-large', limit, tensor: largest.tensor, bytes: largest.bytes, allowed },
        `its largest tensor, "${largest.tensor}" (${formatBytes(largest.bytes)} as float32), is over this GPU's ${limit} of ${formatBytes(allowed)}`,
      );
    }
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
