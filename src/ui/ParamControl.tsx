import { useState } from 'react';
import type { NumberParam, ParamSpec } from '../techniques/types';

interface ParamControlProps {
  techniqueId: string;
  spec: ParamSpec;
  value: number | string;
  onChange(value: number | string): void;
}

/** One control per ParamSpec: a select for a choice, a slider plus number box for a number. */
export function ParamControl({ techniqueId, spec, value, onChange }: ParamControlProps) {
  const id = `param-${techniqueId}-${spec.key}`;
  const testId = `technique-${techniqueId}-param-${spec.key}`;
  return (
    <div className="param" title={spec.help}>
      <label htmlFor={id}>{spec.label}</label>
      {spec.kind === 'choice' ? (
        <select id={id} data-testid={testId} value={String(value)} onChange={(e) => onChange(e.target.value)}>
          {spec.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      ) : (
        <NumberControl id={id} testId={testId} spec={spec} value={Number(value)} onChange={onChange} />
      )}
      <p className="param-help">{spec.help}</p>
    </div>
  );
}

function NumberControl({ id, testId, spec, value, onChange }: { id: string; testId: string; spec: NumberParam; value: number; onChange(value: number): void }) {
  // While typing, "0." or "" are not numbers yet: keep the text and commit only values inside the spec.
  const [draft, setDraft] = useState<string | null>(null);
  const commitIfValid = (text: string) => {
    const number = Number(text);
    if (text.trim() !== '' && Number.isFinite(number) && number >= spec.min && number <= spec.max) onChange(number);
  };
  return (
    <span className="number-control">
      <input
        type="range"
        aria-label={`${spec.label} slider`}
        min={spec.min}
        max={spec.max}
        step={spec.step}
        value={value}
        onChange={(e) => onChange(Number(e.target.value))}
      />
      <input
        id={id}
        data-testid={testId}
        type="number"
        min={spec.min}
        max={spec.max}
        step={spec.kind === 'int' ? 1 : 'any'}
        value={draft ?? String(value)}
        onChange={(e) => {
          setDraft(e.target.value);
          commitIfValid(e.target.value);
        }}
        onBlur={() => setDraft(null)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') setDraft(null);
        }}
      />
    </span>
  );
}
