import { useState } from 'react';
import { paramRange, type ModelShape, type NumberParam, type ParamSpec } from '../techniques/types';

interface ParamControlProps {
  techniqueId: string;
  spec: ParamSpec;
  /** The loaded model, which bounds layer parameters; null until one is loaded. */
  shape: ModelShape | null;
  value: number | string;
  onChange(value: number | string): void;
}

/**
 * One control per ParamSpec: a select for a choice, a slider plus number box for a number. A layer parameter offers
 * the loaded model's layers only, and its label says which.
 */
export function ParamControl({ techniqueId, spec, shape, value, onChange }: ParamControlProps) {
  const id = `param-${techniqueId}-${spec.key}`;
  const testId = `technique-${techniqueId}-param-${spec.key}`;
  return (
    <div className="param" title={spec.help}>
      <label htmlFor={id}>
        {spec.label}
        {spec.kind !== 'choice' && spec.modelIndex && shape && <ModelRange range={paramRange(spec, shape)} />}
      </label>
      {spec.kind === 'choice' ? (
        <select id={id} data-testid={testId} value={String(value)} onChange={(e) => onChange(e.target.value)}>
          {spec.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      ) : (
        <NumberControl id={id} testId={testId} spec={spec} range={paramRange(spec, shape)} value={Number(value)} onChange={onChange} />
      )}
      <p className="param-help">{spec.help}</p>
    </div>
  );
}

function ModelRange({ range }: { range: { min: number; max: number } }) {
  return <span className="param-range"> ({range.min === range.max ? range.min : `${range.min}–${range.max}`} on this model)</span>;
}

interface NumberControlProps {
  id: string;
  testId: string;
  spec: NumberParam;
  range: { min: number; max: number };
  value: number;
  onChange(value: number): void;
}

function NumberControl({ id, testId, spec, range, value, onChange }: NumberControlProps) {
  // While typing, "0." or "" are not numbers yet: keep the text and commit only values inside the range.
  const [draft, setDraft] = useState<string | null>(null);
  const commitIfValid = (text: string) => {
    const number = Number(text);
    if (text.trim() !== '' && Number.isFinite(number) && number >= range.min && number <= range.max) onChange(number);
  };
  return (
    <span className="number-control">
      <input
        type="range"
        aria-label={`${spec.label} slider`}
        min={range.min}
        max={range.max}
        step={spec.step}
        value={value}
        onChange={(e) => onChange(Number(e.target.value))}
      />
      <input
        id={id}
        data-testid={testId}
        type="number"
        min={range.min}
        max={range.max}
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
