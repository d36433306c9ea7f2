import { techniques } from '../techniques/registry';
import type { TechniqueFamily } from '../techniques/types';
import { ModelInput } from './ModelInput';
import { TechniqueCard } from './TechniqueCard';

const FAMILY_LABELS: Record<TechniqueFamily, string> = {
  'sparse-attention': 'Sparse attention',
  'token-pruning': 'Token pruning',
  dropout: 'Dropout',
};

/** Families in the order the registry first lists them. */
const families = [...new Set(techniques.map((t) => t.family))];

export function Controls() {
  return (
    <aside className="controls" aria-label="Controls">
      <ModelInput />
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
