import { useMemo, useState } from 'react';
import type { LmEvalItem } from '../eval/lmHarness';
import { describeModelSource } from '../models/modelSource';
import type { ModelInputs } from '../runtime/runner';
import { DEFAULT_PROMPT_ITEM, MAX_PROMPT_CHARS } from '../state/persistent';
import { playgroundStore, selectModelInputs, usePlayground } from '../state/store';
import { IndexInput, StepButtons } from './IndexPicker';

/**
 * A text model's input: the prompt, counted in the model's own tokens against what it takes, what the prompt asks
 * and expects when it is one of the model's eval prompts, and a picker of those prompts.
 */
export function PromptInput() {
  const prompt = usePlayground((s) => s.prompt);
  const inputs = usePlayground(selectModelInputs);
  const modelName = usePlayground((s) => describeModelSource(s.modelSource));
  const { setPrompt } = playgroundStore.getState();
  // The box has no maxLength: the browser would cut a long paste silently, where the store cuts it and this says so.
  const [cutFrom, setCutFrom] = useState<number | null>(null);
  const items = inputs?.promptItems ?? [];
  return (
    <>
      <label htmlFor="prompt" className="control-heading">
        Prompt
      </label>
      <textarea
        id="prompt"
        data-testid="prompt-input"
        rows={5}
        value={prompt}
        onChange={(e) => {
          const text = e.target.value;
          setCutFrom(text.length > MAX_PROMPT_CHARS ? text.length : null);
          setPrompt(text);
        }}
      />
      <p className="prompt-count" data-testid="prompt-count">
        <PromptCount prompt={prompt} inputs={inputs} modelName={modelName} />
      </p>
      {cutFrom !== null && (
        <p className="prompt-cut" role="status" data-testid="prompt-cut-note">
          The text was {cutFrom} characters long; only its first {MAX_PROMPT_CHARS} were kept.
        </p>
      )}
      <PromptTask />
      {items.length > 0 && <EvalPromptChoice items={items} prompt={prompt} />}
    </>
  );
}

/** Tokens against the model's limit once the model is loaded (its tokenizer decides); characters until then. */
function PromptCount({ prompt, inputs, modelName }: { prompt: string; inputs: ModelInputs | null; modelName: string }) {
  const tokens = useMemo(() => inputs?.countTextTokens(prompt) ?? null, [inputs, prompt]);
  if (!inputs || tokens === null) return <>{prompt.length} characters</>;
  const over = tokens - inputs.maxTextTokens;
  return (
    <>
      {tokens} / {inputs.maxTextTokens} tokens
      {over > 0 && `: ${over} too many for ${modelName}; shorten the prompt`}
    </>
  );
}

/** The eval item the prompt is (the default prompt counts as one of recall-lm's), when the model has eval prompts. */
function usePromptItem(): LmEvalItem | undefined {
  const prompt = usePlayground((s) => s.prompt);
  const items = usePlayground((s) => selectModelInputs(s)?.promptItems);
  return useMemo(() => (items?.length ? [DEFAULT_PROMPT_ITEM, ...items].find((item) => item.prompt === prompt) : undefined), [items, prompt]);
}

/** What the prompt asks and the answer it expects; nothing for a prompt of the user's, whose answer is unknown. */
export function PromptTask() {
  const item = usePromptItem();
  if (!item) return null;
  return (
    <p className="prompt-task" data-testid="prompt-task">
      {taskQuestion(item)} <strong data-testid="expected-answer">Expected answer: {item.answer}</strong>
    </p>
  );
}

/** recall-lm's tasks, in its model card's words. */
function taskQuestion(item: LmEvalItem): string {
  if (item.task === 'needle' && item.key) {
    return `The text hides three-digit numbers after key letters (like “K417;”) and ends with “?${item.key}”: it asks for the number written after '${item.key}'.`;
  }
  if (item.task === 'copy') return 'It asks the model to repeat the characters after “copy”, then a full stop.';
  if (item.task === 'sort') return 'It asks for the letters after “sort” in alphabetical order, then a full stop.';
  return `An eval prompt of the “${item.task}” task.`;
}

/** The model's eval prompts, chosen by number or stepped with arrows, like an image model's eval images. */
function EvalPromptChoice({ items, prompt }: { items: readonly LmEvalItem[]; prompt: string }) {
  const { setPrompt } = playgroundStore.getState();
  const found = useMemo(() => items.findIndex((item) => item.prompt === prompt), [items, prompt]);
  const index = found < 0 ? null : found;
  const current = index === null ? undefined : items[index];
  const choose = (next: number) => setPrompt(items[next]!.prompt);
  return (
    <div className="eval-prompt">
      <IndexInput label="Eval prompt" testId="prompt-eval-item-input" index={index} count={items.length} onChoose={choose} />{' '}
      <StepButtons index={index} count={items.length} onChoose={choose} />
      <p className="eval-item-text" data-testid="prompt-eval-item-text">
        {current
          ? `${current.task}, ${current.length} tokens${current.depth == null ? '' : `, needle at depth ${current.depth}`}`
          : 'Not one of the eval prompts: choose one to see what the model was tested on, with its answer.'}
      </p>
    </div>
  );
}
