import { useState } from 'react';

interface IndexPickerProps {
  /** The chosen index, or null when none of the items is chosen. */
  index: number | null;
  count: number;
  onChoose: (index: number) => void;
}

/**
 * "<label> [n] of 0–last": a number box that commits only indices of the set. While typing, "" is not an index yet,
 * so the text is kept as a draft until it is one.
 */
export function IndexInput({ label, testId, index, count, onChoose }: IndexPickerProps & { label: string; testId: string }) {
  const [draft, setDraft] = useState<string | null>(null);
  const last = count - 1;
  return (
    <label>
      {label}{' '}
      <input
        type="number"
        data-testid={testId}
        min={0}
        max={last}
        step={1}
        placeholder="–"
        value={draft ?? (index === null ? '' : String(index))}
        onChange={(e) => {
          setDraft(e.target.value);
          const chosen = Number(e.target.value);
          if (e.target.value.trim() !== '' && Number.isInteger(chosen) && chosen >= 0 && chosen <= last) onChoose(chosen);
        }}
        onBlur={() => setDraft(null)}
      />{' '}
      of 0–{last}
    </label>
  );
}

/** ‹ and › that step to the previous and next item, kept inside the set. */
export function StepButtons({ index, count, onChoose }: IndexPickerProps) {
  const last = count - 1;
  const step = (by: number) => onChoose(Math.min(last, Math.max(0, (index ?? -1) + by)));
  return (
    <>
      <button type="button" aria-label="Previous eval item" onClick={() => step(-1)} disabled={index === null || index <= 0}>
        ‹
      </button>{' '}
      <button type="button" aria-label="Next eval item" onClick={() => step(1)} disabled={index !== null && index >= last}>
        ›
      </button>
    </>
  );
}
