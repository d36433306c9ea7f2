import { MAX_PROMPT_CHARS } from '../state/persistent';
import { usePlayground } from '../state/store';
import { techniques } from '../techniques/registry';
import type { TechniqueFamily } from '../techniques/types';
import { TechniqueCard } from './TechniqueCard';

const FAMILY_LABELS: Record<TechniqueFamily, string> = {
  'sparse-attention': 'Sparse attention',
  'token-pruning': 'Token pruning',
  dropout: 'Dropout',
};

/** Families in the order the registry first lists them. */
const families = [...new Set(techniques.map((t) => t.family))];

export function Controls() {
  const prompt = usePlayground((s) => s.prompt);
  const setPrompt = usePlayground((s) => s.setPrompt);
  return (
    <aside className="controls" aria-label="Controls">
      <label htmlFor="prompt" className="control-heading">
        Prompt
      </label>
      <textarea
        id="prompt"
        data-testid="prompt-input"
        rows={5}
        maxLength={MAX_PROMPT_CHARS}
        value={prompt}
        onChange={(e) => setPrompt(e.target.value)}
      />
      <p className="prompt-count">
        {prompt.length} / {MAX_PROMPT_CHARS} characters
      </p>
      {families.map((family) => (
        <section key={family} className="family">
          <h2>{FAMILY_LABELS[family]}</h2>
          {techniques
            .filter((t) => t.family === family)
            .map((t) => (
              <TechniqueCard key={t.id} technique={t} />
            ))}
        </section>
      ))}
    </aside>
  );
}
