/**
 * The dense reference: onnxruntime-web runs the model's unmodified ONNX export, so the engine's outputs (with
 * every efficiency technique off) can be compared with an implementation that shares none of our code.
 */
import type * as Ort from 'onnxruntime-web';

export type OrtProvider = 'wasm' | 'webgpu';

export interface OrtReference {
  readonly provider: OrtProvider;
  /** Logits for every position of one sequence: [ids.length, vocab] row-major. */
  logits(ids: readonly number[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export class OrtReferenceError extends Error {
  override name = 'OrtReferenceError';
}

const INPUT_NAME = 'input_ids';
const OUTPUT_NAME = 'logits';

/**
 * Loads the smallest onnxruntime-web build for the provider, on demand so the page renders before it arrives:
 * the wasm-only build (14 MB wasm) for 'wasm', the JSEP build (28 MB) only when the WebGPU provider is wanted.
 * Each build fetches its WebAssembly binary at run time; importing it with ?url makes Vite serve it in dev and
 * emit it into the build, so the page never reaches for a CDN and works offline.
 */
async function loadOrt(provider: OrtProvider): Promise<typeof Ort> {
  const ort = await loadOrtBuild(provider);
  // One thread: multi-threaded wasm needs SharedArrayBuffer, i.e. a cross-origin-isolated page (COOP/COEP
  // headers), which static hosting of the page cannot promise.
  ort.env.wasm.numThreads = 1;
  return ort;
}

async function loadOrtBuild(provider: OrtProvider): Promise<typeof Ort> {
  // Under Node (Vitest) `onnxruntime-web` resolves to ORT's Node build, which reads its own wasm from node_modules.
  if (import.meta.env.SSR) return import('onnxruntime-web');
  const [ort, wasmUrl] =
    provider === 'wasm'
      ? await Promise.all([import('onnxruntime-web/wasm'), import('onnxruntime-web/ort-wasm-simd-threaded.wasm?url')])
      : await Promise.all([import('onnxruntime-web'), import('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url')]);
  ort.env.wasm.wasmPaths = { wasm: wasmUrl.default };
  return ort;
}

export async function createOrtReference(
  modelBytes: Uint8Array,
  options: { provider: OrtProvider },
): Promise<OrtReference> {
  const { provider } = options;
  const ort = await loadOrt(provider);
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelBytes, { executionProviders: [provider] });
  } catch (error) {
    const problem = `onnxruntime-web could not load the model with the ${provider} provider: ${describe(error)}`;
    throw new OrtReferenceError(problem, { cause: error });
  }
  if (!session.inputNames.includes(INPUT_NAME) || !session.outputNames.includes(OUTPUT_NAME)) {
    const found = `inputs [${session.inputNames.join(', ')}], outputs [${session.outputNames.join(', ')}]`;
    await session.release();
    throw new OrtReferenceError(`the ONNX model must take "${INPUT_NAME}" and return "${OUTPUT_NAME}"; it has ${found}`);
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
    logits: (ids) => runInOrder(() => runLogits(ort, session, ids)),
    dispose: () => runInOrder(() => session.release()),
  };
}

async function runLogits(ort: typeof Ort, session: Ort.InferenceSession, ids: readonly number[]): Promise<Float32Array> {
  if (ids.length === 0 || !ids.every((id) => Number.isInteger(id) && id >= 0)) {
    throw new OrtReferenceError(`token ids must be a non-empty list of non-negative integers, got [${ids.join(', ')}]`);
  }
  const input = new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
  let outputs: Ort.InferenceSession.ReturnType;
  try {
    outputs = await session.run({ [INPUT_NAME]: input });
  } catch (error) {
    throw new OrtReferenceError(`onnxruntime-web failed on ${ids.length} tokens: ${describe(error)}`, { cause: error });
  }
  const logits = outputs[OUTPUT_NAME]!;
  const [batch, tokens, vocab] = logits.dims;
  if (logits.type !== 'float32' || logits.dims.length !== 3 || batch !== 1 || tokens !== ids.length || !vocab) {
    throw new OrtReferenceError(
      `expected float32 logits of shape [1, ${ids.length}, vocab], got ${logits.type} [${logits.dims.join(', ')}]`,
    );
  }
  return logits.data as Float32Array;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
