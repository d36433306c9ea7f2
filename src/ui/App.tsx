import { useEffect, useState } from 'react';
import { activeTechniques } from '../state/persistent';
import { playgroundStore, selectModelInputs, usePlayground } from '../state/store';
import { techniqueById } from '../techniques/registry';
import { Controls } from './Controls';
import { filesFromDrop, filesSource } from './droppedFiles';
import { ModelLoadProgress, ModelPicker, ModelSources } from './ModelPicker';
import { AttentionPanel, FlopsPanel, ImagePanel, PredictionsPanel, SurvivalPanel } from './panels';
import { TimingBadge } from './TimingBadge';
import { useRunLoop } from './useRunLoop';
import { ViewBar } from './ViewBar';

export function App() {
  useRunLoop();
  useModelDrop();
  const controlsHidden = usePlayground((s) => s.view.controlsHidden);
  const panels = usePlayground((s) => s.view.panels);
  const [sourcesOpen, setSourcesOpen] = useState(false);
  return (
    <div className={controlsHidden ? 'app controls-hidden' : 'app'}>
      <Header onOpenSources={() => setSourcesOpen(true)} />
      {sourcesOpen && <ModelSources onClose={() => setSourcesOpen(false)} />}
      <Banners />
      <div className="layout">
        {!controlsHidden && <Controls />}
        <main>
          {controlsHidden && <ActiveSummary />}
          <ViewBar />
          {/* Attention, predictions and FLOPs first: the grid shows them side by side (styles.css). */}
          <div className={panels.attention ? 'panels with-attention' : 'panels'}>
            {panels.attention && <AttentionPanel />}
            {panels.predictions && <PredictionsPanel />}
            {panels.flops && <FlopsPanel />}
            {panels.image && <ImagePanel />}
            {panels.survival && <SurvivalPanel />}
          </div>
        </main>
      </div>
    </div>
  );
}

/** A model folder or its files dropped anywhere on the page become the model. */
function useModelDrop(): void {
  useEffect(() => {
    const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    const onDragOver = (event: DragEvent) => {
      if (carriesFiles(event)) event.preventDefault(); // allows the drop instead of the browser opening the file
    };
    const onDrop = (event: DragEvent) => {
      if (!carriesFiles(event) || !event.dataTransfer) return;
      event.preventDefault();
      void filesFromDrop(event.dataTransfer).then((files) => {
        if (files.length > 0) playgroundStore.getState().setModelSource(filesSource(files));
      });
    };
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('dragover', onDragOver);
      window.removeEventListener('drop', onDrop);
    };
  }, []);
}

function Header({ onOpenSources }: { onOpenSources(): void }) {
  const status = usePlayground((s) => s.run.status);
  const controlsHidden = usePlayground((s) => s.view.controlsHidden);
  const { setControlsHidden } = playgroundStore.getState();
  return (
    <header className="app-header">
      <h1>Sparsity Playground</h1>
      <ModelPicker onOpenSources={onOpenSources} />
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

function Banners() {
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
        <div className="banner banner-info" data-testid="model-link-note">
          This model comes from files on your computer, which a link cannot carry: whoever opens this page&apos;s link is
          asked to drop the same files.
        </div>
      )}
      {ownImage && (
        <div className="banner banner-info" data-testid="image-link-note">
          Your own image is not in this page&apos;s link, which cannot carry it: whoever opens the link is asked for an
          image of theirs{hasEvalImages && ', and sees the first eval image until they choose one'}.
        </div>
      )}
      {linkImageLeftOut && (
        <div className="banner banner-info" data-testid="link-image-note">
          This link was made on the sender&apos;s own image, which a link cannot carry
          {hasEvalImages && ', so the first eval image is shown instead'}. Choose an image of yours in the image picker to
          see the model on it.{' '}
          <button type="button" onClick={dismissLinkImageNote}>
            Dismiss
          </button>
        </div>
      )}
      {modelNotices?.map((notice) => (
        <div key={notice} className="banner banner-info" data-testid="model-notice">
          {notice}
        </div>
      ))}
      {linkError && (
        <div className="banner banner-warning" role="alert" data-testid="url-error">
          <strong>This link could not be applied; showing the defaults instead.</strong> {linkError}{' '}
          <button type="button" onClick={dismissLinkError}>
            Dismiss
          </button>
        </div>
      )}
      {settingNotes.length > 0 && (
        <div className="banner banner-info" role="status" data-testid="setting-notes">
          <strong>Some settings were applied differently from what was asked:</strong>
          <ul>
            {settingNotes.map((note, index) => (
              <li key={index}>{note}</li>
            ))}
          </ul>
          <button type="button" onClick={dismissSettingNotes}>
            Dismiss
          </button>
        </div>
      )}
      {runError && (
        <div className="banner banner-error" role="alert" data-testid="run-error">
          <strong>The run failed:</strong> {runError}
        </div>
      )}
    </>
  );
}

/** In teacher mode the controls are hidden, so say what is switched on. */
function ActiveSummary() {
  const techniques = usePlayground((s) => s.techniques);
  const active = activeTechniques({ techniques });
  const describe = (id: string, params: Record<string, number | string>) => {
    const technique = techniqueById(id);
    const values = technique?.params.map((p) => `${p.label} ${params[p.key]}`).join(', ');
    return `${technique?.label ?? id} (${values})`;
  };
  return (
    <p className="active-summary">
      {active.length === 0 ? 'All techniques off: the dense model.' : `On: ${active.map((t) => describe(t.id, t.params)).join('; ')}.`}
    </p>
  );
}
