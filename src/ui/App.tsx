import { bundledModels } from '../models/bundledModels';
import { activeTechniques } from '../state/persistent';
import { playgroundStore, usePlayground } from '../state/store';
import { techniqueById } from '../techniques/registry';
import { Controls } from './Controls';
import { AttentionPanel, FlopsPanel, PredictionsPanel, SurvivalPanel } from './panels';
import { TimingBadge } from './TimingBadge';
import { useRunLoop } from './useRunLoop';
import { ViewBar } from './ViewBar';

export function App() {
  useRunLoop();
  const controlsHidden = usePlayground((s) => s.view.controlsHidden);
  const panels = usePlayground((s) => s.view.panels);
  return (
    <div className={controlsHidden ? 'app controls-hidden' : 'app'}>
      <Header />
      <Banners />
      <div className="layout">
        {!controlsHidden && <Controls />}
        <main>
          {controlsHidden && <ActiveSummary />}
          <ViewBar />
          <div className="panels">
            {panels.attention && <AttentionPanel />}
            {panels.predictions && <PredictionsPanel />}
            {panels.flops && <FlopsPanel />}
            {panels.survival && <SurvivalPanel />}
          </div>
        </main>
      </div>
    </div>
  );
}

function Header() {
  const modelId = usePlayground((s) => s.modelId);
  const status = usePlayground((s) => s.run.status);
  const controlsHidden = usePlayground((s) => s.view.controlsHidden);
  const { setModel, setControlsHidden } = playgroundStore.getState();
  // A link may name a model this build does not ship; keep it selectable so the run error explains it.
  const models = bundledModels.some((m) => m.id === modelId) ? bundledModels : [...bundledModels, { id: modelId, label: `${modelId} (not bundled)` }];
  return (
    <header className="app-header">
      <h1>Sparsity Playground</h1>
      <label>
        Model{' '}
        <select data-testid="model-picker" value={modelId} onChange={(e) => setModel(e.target.value)}>
          {models.map((m) => (
            <option key={m.id} value={m.id}>
              {m.label}
            </option>
          ))}
        </select>
      </label>
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
  const runError = usePlayground((s) => (s.run.status === 'error' ? s.run.error : null));
  const { dismissLinkError } = playgroundStore.getState();
  return (
    <>
      {linkError && (
        <div className="banner banner-warning" role="alert" data-testid="url-error">
          <strong>This link could not be applied; showing the defaults instead.</strong> {linkError}{' '}
          <button type="button" onClick={dismissLinkError}>
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
