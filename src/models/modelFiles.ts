/**
 * Finding and reading a model's files, wherever the model comes from: a bundled folder (checked against
 * public/models/manifest.json), a Hugging Face hub repository, or files dropped on the page. Reading streams each
 * body so progress can be reported across all files, goes through the model cache, and verifies manifest hashes.
 */
import type { ModelFileCache } from './modelCache';
import { ModelLoadError } from './modelLoadError';
import type { DroppedFile, FilesSource, HubSource } from './modelSource';

/** The Hugging Face layout: the same names in a bundled folder, a hub repository and a dropped folder. */
export const MODEL_FILES = {
  config: 'config.json',
  /** Image normalisation of an image model (Hugging Face image processor); its values win over config.json's. */
  preprocessorConfig: 'preprocessor_config.json',
  weights: 'model.safetensors',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  onnx: 'onnx/model.onnx',
  /** The model's evaluation set: the images (and a VLM's questions), or a text model's prompts, the page offers. */
  evalSet: 'eval.json',
} as const;
export type ModelFileName = (typeof MODEL_FILES)[keyof typeof MODEL_FILES];

interface ManifestEntry {
  size: number;
  sha256: string;
}

/** public/models/manifest.json, written by tools/make_manifest.mjs. */
export interface Manifest {
  version: 1;
  models: Record<string, { files: Record<string, ManifestEntry> }>;
}

/** One file of one model, before it is read. */
export interface FileLocation {
  /** For messages: the URL, or the dropped file's path. */
  where: string;
  /** The size when known before reading (manifest, dropped file); otherwise Content-Length tells. */
  size: number | null;
  /** Set for bundled files: the bytes must hash to this. */
  sha256?: string;
  /** Set when the file is worth keeping in the model cache. */
  cacheKey?: string;
  open(signal: AbortSignal): Promise<Response>;
}

/** A model's files; `locate` answers null for a file the source is known not to have. */
export interface ModelLocation {
  locate(file: ModelFileName): FileLocation | null;
}

type Fetch = typeof fetch;

export function hubLocation(source: HubSource, fetchImpl: Fetch): ModelLocation {
  const base = `${source.endpoint.replace(/\/+$/, '')}/${source.repo}/resolve/${encodeURIComponent(source.revision)}`;
  return {
    locate(file) {
      const url = `${base}/${file}`;
      // Keyed by the full URL, so another revision (or mirror) is another cache entry.
      return { where: url, size: null, cacheKey: url, open: (signal) => fetchImpl(url, { signal }) };
    },
  };
}

export function bundledLocation(root: string, name: string, manifest: Manifest, fetchImpl: Fetch): ModelLocation {
  const files = manifest.models[name]?.files ?? {};
  return {
    locate(file) {
      const entry = files[file];
      if (!entry) return null;
      const url = `${root}/${name}/${file}`;
      // The hash is in the key: a retrained model under the same URL is a new entry, never a stale hit.
      return { where: url, size: entry.size, sha256: entry.sha256, cacheKey: `${url}?sha256=${entry.sha256}`, open: (signal) => fetchImpl(url, { signal }) };
    },
  };
}

/**
 * Dropped files are matched by name: a path ending in the wanted path first (".../onnx/model.onnx"), else the same
 * file name anywhere (a bare "model.onnx" dropped next to config.json); the shortest path wins.
 */
export function droppedLocation(source: FilesSource): ModelLocation {
  return {
    locate(file) {
      const baseName = file.slice(file.lastIndexOf('/') + 1);
      const byPath = source.files.filter((f) => f.path === file || f.path.endsWith(`/${file}`));
      const candidates = byPath.length > 0 ? byPath : source.files.filter((f) => fileNameOf(f) === baseName);
      const match = candidates.sort((a, b) => a.path.length - b.path.length)[0];
      if (!match) return null;
      return { where: match.path, size: match.file.size, open: async () => new Response(match.file) };
    },
  };
}

function fileNameOf(dropped: DroppedFile): string {
  return dropped.path.slice(dropped.path.lastIndexOf('/') + 1);
}

export async function fetchManifest(root: string, modelLabel: string, fetchImpl: Fetch): Promise<Manifest> {
  const url = `${root}/manifest.json`;
  // Revalidated every time, so a new build's manifest is seen at once (the model files themselves may be cached).
  const response = await fetchOrFail(modelLabel, url, () => fetchImpl(url, { cache: 'no-cache' }));
  if (!response.ok) throw missingFile(modelLabel, url, response.status);
  const manifest: unknown = await response.json().catch(() => undefined);
  if (!isManifest(manifest)) {
    throw new ModelLoadError(modelLabel, { kind: 'invalid-file', url }, `${url} is not a model manifest`);
  }
  return manifest;
}

function isManifest(value: unknown): value is Manifest {
  if (typeof value !== 'object' || value === null) return false;
  const { version, models } = value as Partial<Manifest>;
  return version === 1 && typeof models === 'object' && models !== null;
}

export interface LoadProgress {
  loadedBytes: number;
  /** null while some file's size is still unknown (no manifest entry, no Content-Length): an indeterminate bar. */
  totalBytes: number | null;
}

/** Bytes read across all files of one load. Files expected but not yet answered keep the total unknown. */
export class ProgressTracker {
  readonly #files = new Map<ModelFileName, { loaded: number; size: number | null }>();
  readonly #onProgress: ((progress: LoadProgress) => void) | undefined;

  /** `expected`: every file that may be read, with its size where the source knows it before reading. */
  constructor(expected: ReadonlyMap<ModelFileName, number | null>, onProgress?: (progress: LoadProgress) => void) {
    for (const [file, size] of expected) this.#files.set(file, { loaded: 0, size });
    this.#onProgress = onProgress;
  }

  /** Reading (again) from the start; `size` is null when only the body's end will tell. */
  started(file: ModelFileName, size: number | null): void {
    this.#files.set(file, { loaded: 0, size });
    this.#report();
  }

  read(file: ModelFileName, bytes: number): void {
    const entry = this.#files.get(file);
    if (entry) entry.loaded += bytes;
    this.#report();
  }

  /** The file turned out not to exist (an optional file), or the body is complete: its size is what was read. */
  finished(file: ModelFileName, present: boolean): void {
    const entry = this.#files.get(file);
    if (!present) this.#files.delete(file);
    else if (entry) entry.size = entry.loaded;
    this.#report();
  }

  #report(): void {
    let loadedBytes = 0;
    let totalBytes: number | null = 0;
    for (const { loaded, size } of this.#files.values()) {
      loadedBytes += loaded;
      // A compressed response can deliver more than its Content-Length said; never report past 100%.
      totalBytes = totalBytes === null || size === null ? null : totalBytes + Math.max(size, loaded);
    }
    this.#onProgress?.({ loadedBytes, totalBytes });
  }
}

export interface ReadContext {
  modelLabel: string;
  /** The files come from this computer: a missing one is not the fault of a repository id or a server. */
  local: boolean;
  cache: ModelFileCache | undefined;
  progress: ProgressTracker;
  signal: AbortSignal;
  /** Why a file could only be kept in memory, for the notices the UI shows. */
  notices: Set<string>;
}

/**
 * Reads one file: from the cache when it holds a copy (that still matches the manifest), else from its source,
 * storing what was fetched. Returns null for a missing optional file; a missing required file is an error.
 */
export async function readModelFile(
  file: ModelFileName,
  location: FileLocation | null,
  required: boolean,
  context: ReadContext,
): Promise<ArrayBuffer | null> {
  const { modelLabel, cache, progress } = context;
  if (!location) {
    progress.finished(file, false);
    if (required && context.local) throw new ModelLoadError(modelLabel, { kind: 'missing-local-file', file }, `${file} is not among them`);
    if (required) throw missingFile(modelLabel, file, null);
    return null;
  }
  const cached = location.cacheKey && cache ? await cache.match(location.cacheKey) : undefined;
  if (cached) {
    const bytes = await readBody(file, cached, location, context);
    // A copy damaged on disk is not an error: it is fetched again below, and the good copy replaces it.
    if (!location.sha256 || (await sha256Hex(bytes)) === location.sha256) {
      progress.finished(file, true);
      return bytes;
    }
  }

  const response = await fetchOrFail(modelLabel, location.where, () => location.open(context.signal));
  if (!response.ok) {
    if (!required && response.status === 404) {
      progress.finished(file, false);
      return null;
    }
    throw missingFile(modelLabel, location.where, response.status);
  }
  const bytes = await readBody(file, response, location, context);
  progress.finished(file, true);
  if (location.sha256) {
    const actual = await sha256Hex(bytes);
    if (actual !== location.sha256) {
      throw new ModelLoadError(
        modelLabel,
        { kind: 'hash-mismatch', url: location.where, file, expected: location.sha256, actual },
        `${location.where} has sha256 ${actual}, but the manifest expects ${location.sha256}`,
      );
    }
  }
  if (location.cacheKey && cache) {
    const stored = await cache.put(location.cacheKey, bytes);
    if (stored.storedIn === 'memory') context.notices.add(`Model files are kept in memory for this visit only, not on disk: ${stored.reason}.`);
  }
  return bytes;
}

/** Streams a body chunk by chunk, so the progress bar moves during a long download. */
async function readBody(file: ModelFileName, response: Response, location: FileLocation, context: ReadContext): Promise<ArrayBuffer> {
  const header = response.headers.get('Content-Length');
  const declared = header !== null && /^\d+$/.test(header) ? Number(header) : null;
  context.progress.started(file, location.size ?? declared);
  if (!response.body) return new ArrayBuffer(0);
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      length += value.byteLength;
      context.progress.read(file, value.byteLength);
    }
  } catch (error) {
    throw new ModelLoadError(context.modelLabel, { kind: 'network', url: location.where }, `reading ${location.where} failed (${describe(error)})`, { cause: error });
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes.buffer;
}

async function fetchOrFail(modelLabel: string, where: string, open: () => Promise<Response>): Promise<Response> {
  try {
    return await open();
  } catch (error) {
    throw new ModelLoadError(modelLabel, { kind: 'network', url: where }, `fetching ${where} failed (${describe(error)})`, { cause: error });
  }
}

function missingFile(modelLabel: string, where: string, status: number | null): ModelLoadError {
  if (status === null) {
    return new ModelLoadError(modelLabel, { kind: 'missing-file', url: where, status: null }, `the model has no ${where}`);
  }
  return new ModelLoadError(modelLabel, { kind: 'missing-file', url: where, status }, `${where} answered HTTP ${status}`);
}

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
