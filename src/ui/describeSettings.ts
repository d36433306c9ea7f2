/** The settings a run used, in the words the controls use: for teacher mode's summary and the last good run's label. */
import { describeModelSource } from '../models/modelSource';
import type { ImageRunOutput, RunRequest } from '../runtime/runner';
import { techniqueById } from '../techniques/registry';
import type { ActiveTechnique } from '../techniques/types';

/** Characters of a prompt or question quoted in a label; the input itself is shown elsewhere. */
const QUOTED_CHARS = 40;

/** Each switched-on technique with its parameters, choices by their labels: "FastV token pruning (Prune at layer K 1, …)". */
export function describeTechniques(active: readonly ActiveTechnique[]): string {
  if (active.length === 0) return 'all techniques off';
  return active
    .map(({ id, params }) => {
      const technique = techniqueById(id);
      if (!technique) return id;
      const values = technique.params.map((spec) => {
        const value = params[spec.key];
        const shown = spec.kind === 'choice' ? (spec.options.find((o) => o.value === value)?.label ?? value) : value;
        return `${spec.label} ${shown}`;
      });
      return `${technique.label} (${values.join(', ')})`;
    })
    .join('; ');
}

/** The model, the techniques and the input of a run: "recall-lm, all techniques off, prompt “the cat sat…”". */
export function describeRun(request: RunRequest, image: ImageRunOutput | null): string {
  return [describeModelSource(request.modelSource), describeTechniques(request.active), describeInput(request, image)].join(', ');
}

function describeInput(request: RunRequest, image: ImageRunOutput | null): string {
  if (!image) return `prompt ${quote(request.prompt)}`;
  const picture = image.origin.kind === 'eval' ? `eval image ${image.origin.item}` : `your image “${image.origin.name}”`;
  return image.question === null ? picture : `${picture} asked ${quote(image.question)}`;
}

function quote(text: string): string {
  return `“${text.length > QUOTED_CHARS ? `${text.slice(0, QUOTED_CHARS - 1)}…` : text}”`;
}
