import { useEffect, useState } from 'react';
import { describeModelSource } from '../models/modelSource';
import { activeTechniques } from '../state/persistent';
import { playgroundStore, selectModelInputs, usePlayground } from '../state/store';
import type { PlaygroundState } from '../state/types';
import { Banner } from './Banner';
import { Controls } from './Controls';
import { describeRun, describeTechniques } from './describeSettings';
import { filesFromDrop, filesSource } from './droppedFiles';
import { chooseImageFile } from './imageFile';
import { dropIntent } from './pageDrop';
import { ModelCardLink, ModelLoadProgress, ModelPicker, ModelSources } from './ModelPicker';
import { PromptTask } from './PromptInput';
import { AttentionPanel, DensityPanel, FlopsPanel, ImagePanel, NeedleGridPanel, PredictionsPanel, SurvivalPanel } from './panels';
import { TimingBadge } from './TimingBadge';
import { useRunLoop } from './useRunLoop';
import { ViewBar } from './ViewBar';

export function App() {
  useRunLoop();
  const [dropNote, dismissDropNote] = usePageDrop();
  const controlsHidden = usePlayground((s) => s.view.controlsHidden);
  const panels = usePlayground((s) => s.view.panels);
  const staleRun = usePlayground(selectStaleRun);
  const [sourcesOpen, setSourcesOpen] = useState(false);
  return (
    <div className={controlsHidden ? 'app controls-hidden' : 'app'}>
      <Header onOpenSources={() => setSourcesOpen(true)} />
      {sourcesOpen && <ModelSources onClose={() => setSourcesOpen(false)} />}
      <Banners dropNote={dropNote} onDismissDropNote={dismissDropNote} />
      <div className="layout">
        {!controlsHidden && <Controls />}
        <main>
          {controlsHidden && <ActiveSummary />}
          <ViewBar />
          {staleRun && (
            <p className="stale-note" data-testid="stale-panels-note">
              The run failed, so these panels still show the last good run: {staleRun}.
            </p>
          )}
          {/* Attention, predictions and FLOPs first: the grid shows them side by side (styles.css). */}
          <div className={['panels', panels.attention ? 'with-attention' : '', staleRun ? 'stale' : ''].filter(Boolean).join(' ')} data-testid="panels">
            {panels.attention && <AttentionPanel />}
            {panels.predictions && <PredictionsPanel />}
            {panels.flops && <FlopsPanel />}
            {panels.flops && <DensityPanel />}
            {panels.image && <ImagePanel />}
            {panels.survival && <SurvivalPanel />}
            {panels.survival && <NeedleGridPanel />}
          </div>
        </main>
      </div>
    </div>
  );
}

/** After a failed run, the settings of the last good run, whose output the panels still show; null otherwise. */
function selectStaleRun(state: PlaygroundState): string | null {
  const { status, output, outputRequest } = state.run;
  return status === 'error' && output && outputRequest ? describeRun(outputRequest, output.image) : null;
}

/**
 * Files dropped anywhere on the page: a model folder or its files become the model, an image becomes an image
 * model's image (see pageDrop.ts); anything else leaves the model as it is. Returns what the last drop did not do.
 */
function usePageDrop(): [note: string | null, dismiss: () => void] {
  const [note, setNote] = useState<string | null>(null);
  useEffect(() => {
    const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    const onDragOver = (event: DragEvent) => {
      if (carriesFiles(event)) event.preventDefault(); // allows the drop instead of the browser opening the file
    };
    const onDrop = async (transfer: DataTransfer) => {
      const files = await filesFromDrop(transfer);
      if (files.length === 0) return;
      const state = playgroundStore.getState();
      const inputs = selectModelInputs(state);
      const intent = dropIntent(files, { modelName: describeModelSource(state.modelSource), imageSize: inputs?.imageSize ?? null });
      setNote(intent.kind === 'refused' ? intent.message : null);
      if (intent.kind === 'model') state.setModelSource(filesSource(files));
      if (intent.kind === 'image' && inputs?.imageSize != null) {
        await chooseImageFile(intent.file, inputs.modelKey, inputs.imageSize).catch((error: unknown) =>
          setNote(error instanceof Error ? error.message : String(error)),
        );
      }
    };
    const onDropEvent = (event: DragEvent) => {
      if (!carriesFiles(event) || !event.dataTransfer) return;
      event.preventDefault();
      void onDrop(event.dataTransfer);
    };
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('drop', onDropEvent);
    return () => {
      window.removeEventListener('dragover', onDragOver);
      window.removeEventListener('drop', onDropEvent);
    };
  }, []);
  return [note, () => setNote(null)];
}

function Header({ onOpenSources }: { onOpenSources(): void }) {
  const status = usePlayground((s) => s.run.status);
  const controlsHidden = usePlayground((s) => s.view.controlsHidden);
  const { setControlsHidden } = playgroundStore.getState();
  return (
    <header className="app-header">
      <h1>Sparsity Playground</h1>
      <ModelPicker onOpenSources={onOpenSources} />
      <ModelCardLink />
      <TimingBadge />
      <span className={`run-status run-${status}`} data-testid="run-status" aria-live="polite">
        {status}
      </span>
      <button type="button" className="teacher-toggle" aria-pressed={controlsHidden} onClick={() => setControlsHidden(!controlsHidden)}>
        {controlsHidden ? 'Show controls' : 'Hide controls (teacher mode)'}
      </button>
    </header>
  );
}

function Banners({ dropNote, onDismissDropNote }: { dropNote: string | null; onDismissDropNote(): void }) {
  const linkError = usePlayground((s) => s.linkError);
  const settingNotes = usePlayground((s) => s.settingNotes);
  const runError = usePlayground((s) => (s.run.status === 'error' ? s.run.error : null));
  const modelNotices = usePlayground((s) => s.run.output?.modelNotices);
  const fromDroppedFiles = usePlayground((s) => s.modelSource.kind === 'files');
  const ownImage = usePlayground((s) => s.image.source.kind === 'uploaded');
  const linkImageLeftOut = usePlayground((s) => s.linkImageLeftOut);
  const hasEvalImages = usePlayground((s) => (selectModelInputs(s)?.evalItems.length ?? 0) > 0);
  const { dismissLinkError, dismissSettingNotes, dismissLinkImageNote } = playgroundStore.getState();
  return (
    <>
      <ModelLoadProgress />
      {fromDroppedFiles && (
        <Banner tone="info" testId="model-link-note">
          This model comes from files on your computer, which a link cannot carry: whoever opens this page&apos;s link is
          asked to drop the same files.
        </Banner>
      )}
      {ownImage && (
        <Banner tone="info" testId="image-link-note">
          Your own image is not in this page&apos;s link, which cannot carry it: whoever opens the link is asked for an
          image of theirs{hasEvalImages && ', and sees the first eval image until they choose one'}.
        </Banner>
      )}
      {linkImageLeftOut && (
        <Banner tone="info" testId="link-image-note" onDismiss={dismissLinkImageNote}>
          This link was made on the sender&apos;s own image, which a link cannot carry
          {hasEvalImages && ', so the first eval image is shown instead'}. Choose an image of yours in the image picker to
          see the model on it.
        </Banner>
      )}
      {modelNotices?.map((notice) => (
        <Banner key={notice} tone="info" testId="model-notice">
          {notice}
        </Banner>
      ))}
      {linkError && (
        <Banner tone="warning" testId="url-error" role="alert" onDismiss={dismissLinkError}>
          <strong>This link could not be applied; showing the defaults instead.</strong> {linkError}
        </Banner>
      )}
      {settingNotes.length > 0 && (
        <Banner tone="info" testId="setting-notes" role="status" onDismiss={dismissSettingNotes}>
          <strong>Some settings were applied differently from what was asked:</strong>
          <ul>
            {settingNotes.map((note, index) => (
              <li key={index}>{note}</li>
            ))}
          </ul>
        </Banner>
      )}
      {dropNote && (
        <Banner tone="warning" testId="drop-note" role="status" onDismiss={onDismissDropNote}>
          {dropNote}
        </Banner>
      )}
      {runError && (
        <Banner tone="error" testId="run-error" role="alert">
          <strong>The run failed:</strong> {runError}
        </Banner>
      )}
    </>
  );
}

/**
 * In teacher mode the controls are hidden, so a slide says what the model reads and what is switched on. An image
 * model's image is in its image panel; a VLM's question is what the last run asked.
 */
function ActiveSummary() {
  const techniques = usePlayground((s) => s.techniques);
  const takesImage = usePlayground((s) => selectModelInputs(s)?.imageSize != null);
  const prompt = usePlayground((s) => s.prompt);
  const question = usePlayground((s) => s.run.output?.image?.question ?? null);
  const active = activeTechniques({ techniques });
  const input = takesImage ? question : prompt;
  return (
    <>
      {input !== null && (
        <blockquote className="teacher-input" data-testid="teacher-input">
          <span className="teacher-input-label">{takesImage ? 'Question' : 'Prompt'}:</span> {input}
        </blockquote>
      )}
      {!takesImage && <PromptTask />}
      <p className="active-summary">{active.length === 0 ? 'All techniques off: the dense model.' : `On: ${describeTechniques(active)}.`}</p>
    </>
  );
}
