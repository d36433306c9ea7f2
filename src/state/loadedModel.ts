/**
 * What the loaded model means for the rest of the state. A link is read, and a model chosen, before the model's shape
 * is known, so layer parameters and the view's layer and head are bounded only by the largest model until then;
 * once the model is known they are fitted to it here, and each change is said in a note.
 */
import { modelSourceKey } from '../models/modelSource';
import type { ModelInputs } from '../runtime/runner';
import { techniqueById } from '../techniques/registry';
import { paramRange } from '../techniques/types';
import type { TechniqueState, ViewState } from './persistent';
import type { PlaygroundState } from './types';

/** The current model's inputs; null until the runner has loaded it (the last ones known may be another model's). */
export function selectModelInputs(state: Pick<PlaygroundState, 'modelInputs' | 'modelSource'>): ModelInputs | null {
  const inputs = state.modelInputs;
  return inputs && inputs.modelKey === modelSourceKey(state.modelSource) ? inputs : null;
}

/** Layers and heads: what fitting needs of the model (wider than a parameter's ModelShape, for the view's head). */
type LoadedShape = ModelInputs['shape'];

/**
 * The changes that fit the settings to the current model, with a note for each; none while its shape is unknown or
 * when everything fits. A layer past the model's last becomes its last layer; a head past its last head becomes the
 * mean of heads, as the panels already showed it.
 */
export function fittedToModel(state: Pick<PlaygroundState, 'modelInputs' | 'modelSource' | 'techniques' | 'view' | 'settingNotes'>): Partial<PlaygroundState> {
  const shape = selectModelInputs(state)?.shape;
  if (!shape) return {};
  const notes: string[] = [];
  const fittedTechniques = Object.fromEntries(
    Object.entries(state.techniques).map(([id, entry]) => [id, fitTechnique(id, entry, shape, notes)]),
  );
  const view = fitView(state.view, shape, notes);
  return notes.length === 0 ? {} : { techniques: fittedTechniques, view, settingNotes: [...state.settingNotes, ...notes] };
}

function fitTechnique(id: string, entry: TechniqueState, shape: LoadedShape, notes: string[]): TechniqueState {
  const technique = techniqueById(id);
  if (!technique) return entry;
  const params = { ...entry.params };
  for (const spec of technique.params) {
    const value = params[spec.key];
    if (spec.kind === 'choice' || typeof value !== 'number') continue;
    const { max } = paramRange(spec, shape);
    if (value <= max) continue;
    params[spec.key] = max;
    notes.push(`${technique.label}'s "${spec.label}" was ${value}, past this model's last layer (${shape.n_layer - 1}); it is now ${max}.`);
  }
  return { ...entry, params };
}

function fitView(view: ViewState, shape: LoadedShape, notes: string[]): ViewState {
  const lastLayer = shape.n_layer - 1;
  const layer = Math.min(view.layer, lastLayer);
  if (layer !== view.layer) notes.push(`The view's layer was ${view.layer}, past this model's last layer (${lastLayer}); it now shows layer ${layer}.`);
  const headFits = view.head === 'mean' || view.head < shape.n_head;
  if (!headFits) notes.push(`The view's head was ${view.head}, past this model's last head (${shape.n_head - 1}); it now shows the mean of heads.`);
  return { ...view, layer, head: headFits ? view.head : 'mean' };
}
