/**
 * Every way loading a model can fail, as one error class with a discriminated `problem`: the UI shows the message
 * (what went wrong, then what to do), tests and callers branch on `problem.kind`.
 */

/** The WebGPU limits a model must fit; the runner passes the device's own `device.limits`. */
export type BufferLimitName = 'maxBufferSize' | 'maxStorageBufferBindingSize';
export type BufferLimits = Pick<GPUSupportedLimits, BufferLimitName>;

export type ModelLoadProblem =
  /** The server answered, but not with the file (`status`), or the bundled model's manifest lacks it (null). */
  | { kind: 'missing-file'; url: string; status: number | null }
  /** Files from this computer without a file the model needs: no repository or server is involved. */
  | { kind: 'missing-local-file'; file: string }
  /** No answer at all: offline, a refused connection, or a cross-origin server without CORS headers. */
  | { kind: 'network'; url: string }
  /** A bundled name this build does not ship. */
  | { kind: 'unknown-model'; name: string; bundled: string[] }
  /** A file that is there but unreadable: config.json that is not JSON, a manifest without the model, … */
  | { kind: 'invalid-file'; url: string }
  /** A truncated or corrupt safetensors header (the cause is a SafetensorsError). */
  | { kind: 'corrupt-safetensors'; url: string }
  /** A tensor missing, or of the wrong shape or dtype for config.json. */
  | { kind: 'tensor-mismatch'; url: string }
  | { kind: 'unsupported-architecture'; url: string; modelType: string }
  /** config.json is readable but describes a model the engine cannot run (a bad value, an odd head size). */
  | { kind: 'invalid-config'; url: string }
  | { kind: 'invalid-tokenizer'; url: string }
  | { kind: 'too-large'; limit: BufferLimitName; tensor: string; bytes: number; allowed: number }
  | { kind: 'hash-mismatch'; url: string; file: string; expected: string; actual: string };

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';

  constructor(
    /**
     * What the UI calls the model, e.g. "tiny-random-gpt2", "gpt2@main (Hugging Face hub)" or "model files — 2 files
     * from this computer" (so the message does not say "model" itself: it would read "model model files").
     */
    readonly model: string,
    readonly problem: ModelLoadProblem,
    /** What went wrong, without the model's name or the advice. */
    what: string,
    options?: { cause: unknown },
  ) {
    super(`Could not load ${model}: ${what}. ${advice(problem)}`, options);
  }
}

function advice(problem: ModelLoadProblem): string {
  switch (problem.kind) {
    case 'missing-file':
      return problem.status === 401 || problem.status === 403
        ? 'The repository may be private or gated, which this page cannot open; check the repository id.'
        : 'Check the repository id and revision, or that the file was copied with the model.';
    case 'missing-local-file':
      return "Choose or drop the model's folder, or at least its config.json and model.safetensors together.";
    case 'network':
      return 'Check the connection (and, for another server, that it allows cross-origin requests), then choose the model again.';
    case 'unknown-model':
      return `Choose one of the bundled models: ${problem.bundled.join(', ')}.`;
    case 'invalid-file':
      return 'The file is damaged or not what its name says; download or export it again.';
    case 'corrupt-safetensors':
      return 'The weights file is damaged or cut short; download or export it again.';
    case 'tensor-mismatch':
      return 'config.json and model.safetensors do not belong together; take both from the same checkpoint.';
    case 'unsupported-architecture':
      return 'Choose a GPT-2 or ViT model instead.';
    case 'invalid-config':
      return 'Fix config.json, or choose another model.';
    case 'invalid-tokenizer':
      return 'Fix or remove tokenizer.json (without it the model reads raw UTF-8 bytes), or choose another model.';
    case 'too-large':
      return 'Choose a smaller model, or use a GPU whose WebGPU adapter allows larger buffers.';
    case 'hash-mismatch':
      return 'The file differs from the one this build was made with: reload the page; if a bundled model was changed, run node tools/make_manifest.mjs.';
  }
}
