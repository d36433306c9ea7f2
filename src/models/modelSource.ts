/**
 * Where a model comes from: a folder bundled with the page, a Hugging Face hub repository, or files the user dropped
 * on the page. Bundled and hub models have a short text form for links (`tiny-random-gpt2`, `hub:gpt2@main`);
 * dropped files cannot travel in a link.
 */

export const HUB_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_REVISION = 'main';

export interface BundledSource {
  kind: 'bundled';
  /** The folder under public/models/. */
  name: string;
}

export interface HubSource {
  kind: 'hub';
  /** "gpt2" or "owner/name". */
  repo: string;
  /** A branch, tag or commit hash. */
  revision: string;
  /** The hub's base URL: huggingface.co, a mirror, or a local server in tests. Not part of a link. */
  endpoint: string;
}

export interface DroppedFile {
  /** The path inside the drop: "config.json", or "my-model/onnx/model.onnx" when a folder was dropped. */
  path: string;
  file: File;
}

export interface FilesSource {
  kind: 'files';
  /** The dropped folder's name, or "model files" for loose files. */
  label: string;
  files: readonly DroppedFile[];
  /** Tells two drops apart: File objects have no identity that survives the run request's JSON key. */
  dropId: number;
}

export type ModelSource = BundledSource | HubSource | FilesSource;

/** A bundled model is a folder, so its name must be one safe path segment. */
const BUNDLED_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The hub's own rule for repository ids: an optional owner, then a name; no "--" or ".." anywhere. */
const HUB_REPO = /^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;
/** Branch and tag names may contain "/" (e.g. refs/pr/1); the URL escapes it. */
const HUB_REVISION = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;
const HUB_PREFIX = 'hub:';
const FILES_PREFIX = 'files:';

/** Why a source cannot be loaded as given, or null when it can. */
export function checkModelSource(source: ModelSource): string | null {
  switch (source.kind) {
    case 'bundled':
      return BUNDLED_NAME.test(source.name) ? null : `"${source.name}" is not a model folder name (letters, digits, . _ -)`;
    case 'hub':
      if (!HUB_REPO.test(source.repo) || /--|\.\./.test(source.repo)) {
        return `"${source.repo}" is not a hub repository id (like gpt2 or owner/name)`;
      }
      if (!HUB_REVISION.test(source.revision) || /\.\.|\/\//.test(source.revision)) {
        return `"${source.revision}" is not a revision (a branch, tag or commit hash)`;
      }
      return checkEndpoint(source.endpoint);
    case 'files':
      return source.files.length > 0 ? null : 'no files were dropped';
  }
}

function checkEndpoint(endpoint: string): string | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `"${endpoint}" is not a URL (the hub endpoint looks like ${HUB_ENDPOINT})`;
  }
  return url.protocol === 'https:' || url.protocol === 'http:' ? null : `the hub endpoint must be an http(s) URL, not "${endpoint}"`;
}

/** The link form of a source. Dropped files get a marker that `parseModelSpec` explains instead of loading. */
export function modelSourceSpec(source: ModelSource): string {
  switch (source.kind) {
    case 'bundled':
      return source.name;
    case 'hub':
      return `${HUB_PREFIX}${source.repo}@${source.revision}`;
    case 'files':
      return `${FILES_PREFIX}${source.label}`;
  }
}

/** Reads the link form back; a hub spec without "@revision" means the main branch, on the public hub. */
export function parseModelSpec(spec: string): { source: BundledSource | HubSource } | { error: string } {
  if (spec.startsWith(FILES_PREFIX)) {
    return {
      error:
        `the model was loaded from files dropped on the page ("${spec.slice(FILES_PREFIX.length)}"), which a link ` +
        'cannot carry: drop the same files on the page again',
    };
  }
  let source: BundledSource | HubSource;
  if (spec.startsWith(HUB_PREFIX)) {
    const rest = spec.slice(HUB_PREFIX.length);
    const at = rest.lastIndexOf('@');
    const [repo, revision] = at < 0 ? [rest, DEFAULT_REVISION] : [rest.slice(0, at), rest.slice(at + 1)];
    source = { kind: 'hub', repo, revision, endpoint: HUB_ENDPOINT };
  } else {
    source = { kind: 'bundled', name: spec };
  }
  const error = checkModelSource(source);
  return error === null ? { source } : { error };
}

/** Two sources with the same key are the same model, so the runner keeps what it loaded. */
export function modelSourceKey(source: ModelSource): string {
  switch (source.kind) {
    case 'bundled':
      return `bundled:${source.name}`;
    case 'hub':
      return `hub:${source.endpoint}/${source.repo}@${source.revision}`;
    case 'files':
      return `files:${source.dropId}`;
  }
}

/** How the UI names a source. */
export function describeModelSource(source: ModelSource): string {
  switch (source.kind) {
    case 'bundled':
      return source.name;
    case 'hub':
      return `${source.repo}@${source.revision} (Hugging Face hub${source.endpoint === HUB_ENDPOINT ? '' : ` at ${source.endpoint}`})`;
    case 'files':
      return `${source.label} — ${source.files.length} file${source.files.length === 1 ? '' : 's'} from this computer`;
  }
}
