import { selectModelInputs, usePlayground } from '../state/store';
import type { Technique } from '../techniques/types';
import { ParamControl } from './ParamControl';

/** A technique's switch, summary and parameters, all derived from its registry entry. */
export function TechniqueCard({ technique }: { technique: Technique }) {
  const entry = usePlayground((s) => s.techniques[technique.id]);
  const setEnabled = usePlayground((s) => s.setTechniqueEnabled);
  const setParam = usePlayground((s) => s.setTechniqueParam);
  const reset = usePlayground((s) => s.resetTechniqueParams);
  const shape = usePlayground((s) => selectModelInputs(s)?.shape ?? null);
  if (!entry) return null;
  const switchId = `technique-${technique.id}`;
  return (
    <article className={entry.enabled ? 'technique on' : 'technique'}>
      <header>
        <input
          id={switchId}
          type="checkbox"
          role="switch"
          aria-checked={entry.enabled}
          data-testid={`technique-${technique.id}-toggle`}
          checked={entry.enabled}
          onChange={(e) => setEnabled(technique.id, e.target.checked)}
        />
        <label htmlFor={switchId}>{technique.label}</label>
      </header>
      <p className="technique-summary">{technique.summary}</p>
      <fieldset>
        <legend className="visually-hidden">{technique.label} parameters</legend>
        {technique.params.map((spec) => (
          <ParamControl
            key={spec.key}
            techniqueId={technique.id}
            spec={spec}
            shape={shape}
            value={entry.params[spec.key] ?? spec.default}
            onChange={(value) => setParam(technique.id, spec.key, value)}
          />
        ))}
      </fieldset>
      <footer>
        <button type="button" className="link-button" aria-label={`Reset ${technique.label} to defaults`} onClick={() => reset(technique.id)}>
          Reset to defaults
        </button>
        <a className="technique-paper" href={technique.paper.url} target="_blank" rel="noreferrer">
          {technique.paper.title}
        </a>
        <span className="technique-paper-source">
          {technique.paper.authors}, {technique.paper.venue}
        </span>
      </footer>
    </article>
  );
}
