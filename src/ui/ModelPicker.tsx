import { useEffect, useRef, useState, type FormEvent } from 'react';
import { bundledModels } from '../models/bundledModels';
import { formatBytes } from '../models/loadModel';
import {
  DEFAULT_REVISION,
  describeModelSource,
  HUB_ENDPOINT,
  modelSourceKey,
  type ModelSource,
} from '../models/modelSource';
import { playgroundStore, usePlayground } from '../state/store';
import { filesFromInput, filesSource } from './droppedFiles';

interface PickerOption {
  key: string;
  label: string;
  source: ModelSource;
}

/** The picker entry that opens the hub and file choices instead of switching the model. */
const OTHER_MODEL = 'other';

/**
 * The header's model choice: the bundled models, the current model when it came from elsewhere, and "Other model…",
 * which opens <ModelSources> (an entry rather than a button, so the header keeps its width).
 */
export function ModelPicker({ onOpenSources }: { onOpenSources(): void }) {
  const source = usePlayground((s) => s.modelSource);
  const { setModelSource } = playgroundStore.getState();
  const options: PickerOption[] = bundledModels.map(({ id, label }) => {
    const bundled: ModelSource = { kind: 'bundled', name: id };
    return { key: modelSourceKey(bundled), label, source: bundled };
  });
  const currentKey = modelSourceKey(source);
  if (!options.some((option) => option.key === currentKey)) {
    // A link may name a model this build does not ship; keep it selectable so the run error explains it.
    const label = source.kind === 'bundled' ? `${source.name} (not bundled)` : describeModelSource(source);
    options.push({ key: currentKey, label, source });
  }
  return (
    <label>
      Model{' '}
      <select
        data-testid="model-picker"
        value={currentKey}
        onChange={(e) => {
          if (e.target.value === OTHER_MODEL) return onOpenSources();
          const chosen = options.find((option) => option.key === e.target.value);
          if (chosen) setModelSource(chosen.source);
        }}
      >
        {options.map((option) => (
          <option key={option.key} value={option.key}>
            {option.label}
          </option>
        ))}
        <option value={OTHER_MODEL}>Other model: Hugging Face hub or files from this computer…</option>
      </select>
    </label>
  );
}

/** The current model's card, so a newcomer can read what it was trained to do; files from this computer have none. */
export function ModelCardLink() {
  const source = usePlayground((s) => s.modelSource);
  const href = modelCardUrl(source);
  if (href === null) return null;
  return (
    <a className="model-card-link" data-testid="model-card-link" href={href} target="_blank" rel="noreferrer">
      Model card
    </a>
  );
}

/** A bundled model's README.md (only for models this build ships), or the README of the hub repository's revision. */
function modelCardUrl(source: ModelSource): string | null {
  switch (source.kind) {
    case 'bundled':
      return bundledModels.some((model) => model.id === source.name) ? `${import.meta.env.BASE_URL}models/${source.name}/README.md` : null;
    case 'hub':
      return `${source.endpoint}/${source.repo}/blob/${encodeURIComponent(source.revision)}/README.md`;
    case 'files':
      return null;
  }
}

/** Loading a model from the Hugging Face hub or from files on this computer. */
export function ModelSources({ onClose }: { onClose(): void }) {
  const current = usePlayground((s) => s.modelSource);
  const hub = current.kind === 'hub' ? current : undefined;
  const [repo, setRepo] = useState(hub?.repo ?? '');
  const [revision, setRevision] = useState(hub?.revision ?? DEFAULT_REVISION);
  const [endpoint, setEndpoint] = useState(hub?.endpoint ?? HUB_ENDPOINT);
  const [problem, setProblem] = useState<string | null>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // Not a React prop: the attribute that turns a file input into a folder picker.
    if (folderInput.current) folderInput.current.webkitdirectory = true;
  }, []);

  const choose = (source: ModelSource) => {
    const refused = playgroundStore.getState().setModelSource(source);
    setProblem(refused);
    if (refused === null) onClose();
  };
  const submitHub = (event: FormEvent) => {
    event.preventDefault();
    choose({ kind: 'hub', repo: repo.trim(), revision: revision.trim() || DEFAULT_REVISION, endpoint: endpoint.trim().replace(/\/+$/, '') });
  };
  const chooseFiles = (list: FileList | null) => {
    if (list && list.length > 0) choose(filesSource(filesFromInput(list)));
  };

  return (
    <section className="model-sources" aria-label="Load another model" data-testid="model-sources">
      <form onSubmit={submitHub}>
        <h2>From the Hugging Face hub</h2>
        <label>
          Repository <input data-testid="hub-repo" value={repo} placeholder="gpt2 or owner/name" onChange={(e) => setRepo(e.target.value)} required />
        </label>
        <label>
          Revision <input data-testid="hub-revision" value={revision} onChange={(e) => setRevision(e.target.value)} size={12} />
        </label>
        <label>
          Hub endpoint <input data-testid="hub-endpoint" value={endpoint} onChange={(e) => setEndpoint(e.target.value)} size={24} />
        </label>
        <button type="submit" data-testid="hub-load">
          Load
        </button>
        <p className="model-sources-note">
          GPT-2 models (gpt2, distilgpt2, …): config.json, model.safetensors, tokenizer.json and, when the repository has
          one, onnx/model.onnx for the dense reference. ViT classifiers (google/vit-base-patch16-224, …) also read
          preprocessor_config.json, and run on an image you choose. Downloads stay in this browser's cache for the next visit; a
          branch such as main stays as first downloaded, so give a commit hash to pin a version. A link to this page
          names the repository and revision; it always opens them on huggingface.co, not on another endpoint.
        </p>
      </form>
      <div>
        <h2>From files on this computer</h2>
        <label>
          Files <input type="file" multiple data-testid="model-files" onChange={(e) => chooseFiles(e.target.files)} />
        </label>
        <label>
          or a folder <input type="file" ref={folderInput} data-testid="model-folder" onChange={(e) => chooseFiles(e.target.files)} />
        </label>
        <p className="model-sources-note">
          Or drop a model folder, or its files, anywhere on this page. Needed: config.json and model.safetensors;
          optional: tokenizer.json, tokenizer_config.json, onnx/model.onnx. The files stay on this computer, so a link to
          this page cannot bring them along.
        </p>
      </div>
      {problem && (
        <p className="model-sources-problem" role="alert" data-testid="model-source-error">
          {problem}
        </p>
      )}
      <button type="button" className="model-sources-close" onClick={onClose}>
        Close
      </button>
    </section>
  );
}

/**
 * Download progress across all of the model's files and, on a first visit, onnxruntime-web for its dense reference;
 * indeterminate until every file's size is known.
 */
export function ModelLoadProgress() {
  const load = usePlayground((s) => s.download);
  const source = usePlayground((s) => s.modelSource);
  if (!load) return null;
  const { loadedBytes, totalBytes } = load;
  const amount = totalBytes === null ? `${formatBytes(loadedBytes)} so far` : `${formatBytes(loadedBytes)} of ${formatBytes(totalBytes)}`;
  return (
    <div className="model-load" data-testid="model-progress">
      Loading {describeModelSource(source)}
      {load.includesReferenceRuntime && ' and onnxruntime-web (the dense reference)'}{' '}
      <progress max={totalBytes ?? undefined} value={totalBytes === null ? undefined : loadedBytes} aria-label="Model download" /> {amount}
    </div>
  );
}
