import { range } from 'd3';
import { PANEL_IDS, type PanelId } from '../state/persistent';
import { playgroundStore, selectModelInputs, usePlayground } from '../state/store';

export const PANEL_LABELS: Record<PanelId, string> = {
  attention: 'Attention map',
  flops: 'FLOPs',
  predictions: 'Predictions',
  survival: 'Token survival',
  image: 'Image patches',
};

/** Which layer and head the attention map shows, and which panels are visible. */
export function ViewBar() {
  const view = usePlayground((s) => s.view);
  const config = usePlayground((s) => s.run.output?.forward.plan.config);
  // The image panel's switch only where there is an image to show, so text models keep their page as it was.
  const takesImage = usePlayground((s) => (selectModelInputs(s)?.imageSize ?? null) !== null);
  const toggles = PANEL_IDS.filter((panel) => panel !== 'image' || takesImage);
  const { setLayer, setHead, setPanelVisible } = playgroundStore.getState();
  // Until a run reports the model's shape, offer the current choice only. The store fits the view to a model once it
  // loads (loadedModel.ts), but until that model's first run the last run's shape is offered, and a layer or head
  // beyond it shows as the last one, which is what the runner and the attention panel fall back to.
  const layers = range(config?.n_layer ?? view.layer + 1);
  const heads = range(config?.n_head ?? (view.head === 'mean' ? 0 : view.head + 1));
  const layer = Math.min(view.layer, layers.length - 1);
  const head = view.head === 'mean' || view.head >= heads.length ? 'mean' : view.head;
  return (
    <div className="view-bar">
      <label>
        Layer{' '}
        <select data-testid="layer-picker" value={layer} onChange={(e) => setLayer(Number(e.target.value))}>
          {layers.map((l) => (
            <option key={l} value={l}>
              {l}
            </option>
          ))}
        </select>
      </label>
      <label>
        Head{' '}
        <select
          data-testid="head-picker"
          value={String(head)}
          onChange={(e) => setHead(e.target.value === 'mean' ? 'mean' : Number(e.target.value))}
        >
          <option value="mean">mean of heads</option>
          {heads.map((h) => (
            <option key={h} value={h}>
              {h}
            </option>
          ))}
        </select>
      </label>
      <fieldset className="panel-toggles">
        <legend>Panels</legend>
        {toggles.map((panel) => (
          <label key={panel}>
            <input type="checkbox" checked={view.panels[panel]} onChange={(e) => setPanelVisible(panel, e.target.checked)} /> {PANEL_LABELS[panel]}
          </label>
        ))}
      </fieldset>
    </div>
  );
}
