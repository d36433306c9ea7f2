/**
 * The dense reference: onnxruntime-web runs the model's unmodified ONNX export, so the engine's outputs (with
 * every efficiency technique off) can be compared with an implementation that shares none of our code.
 */
import type * as Ort from 'onnxruntime-web';

export type OrtProvider = 'wasm' | 'webgpu';

export interface OrtReference {
  readonly provider: OrtProvider;
  /**
   * Logits of one input, row-major [rows, vocab]: a row per text token (GPT-2, and a VLM's text after its image), or
   * one row for an image classifier. `pixels` is pixel_values [channels, size, size] for image models.
   */
  logits(ids: readonly number[], pixels?: Float32Array): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export class OrtReferenceError extends Error {
  override name = 'OrtReferenceError';
}

const TEXT_INPUT = 'input_ids';
const IMAGE_INPUT = 'pixel_values';
const OUTPUT_NAME = 'logits';

/** Bytes downloaded so far of what the reference needs before it can run, and their total. */
export interface ReferenceDownload {
  loadedBytes: number;
  totalBytes: number;
}

/**
 * Bytes of onnxruntime-web's WebAssembly binary the wasm provider still has to download on this page: the size of
 * the build's file (vite.config.ts reads it), or 0 once it was fetched. At 14 MB it is most of a first visit's bytes.
 */
export function ortRuntimeBytesToFetch(): number {
  return wasmBinary ? 0 : __ORT_WASM_BYTES__;
}

/**
 * Loads the smallest onnxruntime-web build for the provider, on demand so the page renders before it arrives:
 * the wasm-only build (14 MB wasm) for 'wasm', the JSEP build (28 MB) only when the WebGPU provider is wanted.
 * Each build fetches its WebAssembly binary at run time; importing it with ?url makes Vite serve it in dev and
 * emit it into the build, so the page never reaches for a CDN and works offline.
 */
async function loadOrt(provider: OrtProvider, onProgress?: (download: ReferenceDownload) => void): Promise<typeof Ort> {
  const ort = await loadOrtBuild(provider, onProgress);
  // One thread: multi-threaded wasm needs SharedArrayBuffer, i.e. a cross-origin-isolated page (COOP/COEP
  // headers), which static hosting of the page cannot promise.
  ort.env.wasm.numThreads = 1;
  return ort;
}

/** The wasm provider's binary, fetched once per page (every model's reference shares it). */
let wasmBinary: Promise<Uint8Array> | undefined;

async function loadOrtBuild(provider: OrtProvider, onProgress?: (download: ReferenceDownload) => void): Promise<typeof Ort> {
  // Under Node (Vitest) `onnxruntime-web` resolves to ORT's Node build, which reads its own wasm from node_modules.
  if (import.meta.env.SSR) return import('onnxruntime-web');
  if (provider === 'wasm') {
    const [ort, wasmUrl] = await Promise.all([import('onnxruntime-web/wasm'), import('onnxruntime-web/ort-wasm-simd-threaded.wasm?url')]);
    // Fetched here rather than by ORT so that the page's progress bar can count its bytes.
    wasmBinary ??= fetchWithProgress(wasmUrl.default, onProgress).catch((error: unknown) => {
      wasmBinary = undefined;
      throw new OrtReferenceError(`onnxruntime-web's WebAssembly binary could not be downloaded: ${describe(error)}`, { cause: error });
    });
    ort.env.wasm.wasmBinary = await wasmBinary;
    return ort;
  }
  const [ort, wasmUrl] = await Promise.all([import('onnxruntime-web'), import('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url')]);
  ort.env.wasm.wasmPaths = { wasm: wasmUrl.default };
  return ort;
}

async function fetchWithProgress(url: string, onProgress?: (download: ReferenceDownload) => void): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  // Content-Length counts compressed bytes where the server compresses; the build's file size is what the body holds.
  const totalBytes = __ORT_WASM_BYTES__;
  const chunks: Uint8Array[] = [];
  let loadedBytes = 0;
  const reader = response.body.getReader();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    chunks.push(chunk.value);
    loadedBytes += chunk.value.byteLength;
    onProgress?.({ loadedBytes, totalBytes: Math.max(totalBytes, loadedBytes) });
  }
  const bytes = new Uint8Array(loadedBytes);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  onProgress?.({ loadedBytes, totalBytes: loadedBytes });
  return bytes;
}

export async function createOrtReference(
  modelBytes: Uint8Array,
  options: { provider: OrtProvider; onDownloadProgress?(download: ReferenceDownload): void },
): Promise<OrtReference> {
  const { provider } = options;
  const ort = await loadOrt(provider, options.onDownloadProgress);
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelBytes, { executionProviders: [provider] });
  } catch (error) {
    const problem = `onnxruntime-web could not load the model with the ${provider} provider: ${describe(error)}`;
    throw new OrtReferenceError(problem, { cause: error });
  }
  const takesText = session.inputNames.includes(TEXT_INPUT);
  const takesImage = session.inputNames.includes(IMAGE_INPUT);
  if (!(takesText || takesImage) || !session.outputNames.includes(OUTPUT_NAME)) {
    const found = `inputs [${session.inputNames.join(', ')}], outputs [${session.outputNames.join(', ')}]`;
    await session.release();
    throw new OrtReferenceError(`the ONNX model must take "${TEXT_INPUT}" and/or "${IMAGE_INPUT}" and return "${OUTPUT_NAME}"; it has ${found}`);
  }

  // An ORT session runs one request at a time; callers (a UI re-running on every edit) may overlap requests.
  let previousRun: Promise<unknown> = Promise.resolve();
  const runInOrder = <T>(task: () => Promise<T>): Promise<T> => {
    const result = previousRun.then(task, task);
    previousRun = result.catch(() => undefined);
    return result;
  };

  return {
    provider,
    logits: (ids, pixels) => runInOrder(() => runLogits(ort, session, { takesText, takesImage }, ids, pixels)),
    dispose: () => runInOrder(() => session.release()),
  };
}

async function runLogits(
  ort: typeof Ort,
  session: Ort.InferenceSession,
  inputs: { takesText: boolean; takesImage: boolean },
  ids: readonly number[],
  pixels: Float32Array | undefined,
): Promise<Float32Array> {
  const feeds: Record<string, Ort.Tensor> = {};
  if (inputs.takesText) {
    if (ids.length === 0 || !ids.every((id) => Number.isInteger(id) && id >= 0)) {
      throw new OrtReferenceError(`token ids must be a non-empty list of non-negative integers, got [${ids.join(', ')}]`);
    }
    feeds[TEXT_INPUT] = new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
  }
  if (inputs.takesImage) {
    const side = Math.sqrt((pixels?.length ?? 0) / 3);
    if (!pixels || !Number.isInteger(side)) throw new OrtReferenceError('this ONNX model takes an image: pass pixel_values of 3 square channels');
    feeds[IMAGE_INPUT] = new ort.Tensor('float32', pixels, [1, 3, side, side]);
  }
  let outputs: Ort.InferenceSession.ReturnType;
  try {
    outputs = await session.run(feeds);
  } catch (error) {
    throw new OrtReferenceError(`onnxruntime-web failed on ${describeInput(inputs, ids)}: ${describe(error)}`, { cause: error });
  }
  const logits = outputs[OUTPUT_NAME]!;
  // Text models answer [1, tokens, vocab]; a classifier answers [1, labels].
  const expected = inputs.takesText ? [1, ids.length] : [1];
  const shapeOk = logits.dims.length === expected.length + 1 && expected.every((size, i) => logits.dims[i] === size) && (logits.dims.at(-1) ?? 0) > 0;
  if (logits.type !== 'float32' || !shapeOk) {
    throw new OrtReferenceError(`expected float32 logits of shape [${expected.join(', ')}, vocab], got ${logits.type} [${logits.dims.join(', ')}]`);
  }
  return logits.data as Float32Array;
}

function describeInput(inputs: { takesText: boolean; takesImage: boolean }, ids: readonly number[]): string {
  return [inputs.takesImage ? 'an image' : '', inputs.takesText ? `${ids.length} tokens` : ''].filter(Boolean).join(' and ');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
