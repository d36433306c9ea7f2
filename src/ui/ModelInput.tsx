import { useLayoutEffect, useRef, useState } from 'react';
import type { RgbImage } from '../models/image';
import type { EvalItemView } from '../runtime/runner';
import { MAX_PROMPT_CHARS } from '../state/persistent';
import { playgroundStore, selectModelInputs, usePlayground } from '../state/store';

/** Thumbnails in the picker's strip: the page of eval items around the current one. */
const STRIP_ITEMS = 12;

/**
 * What the model reads: a prompt for a text model; an eval image for an image model, and a question about it for a
 * VLM. Until the runner has loaded the model its inputs are unknown, and the prompt is shown.
 */
export function ModelInput() {
  const inputs = usePlayground(selectModelInputs);
  if (!inputs?.takesImage) return <PromptInput />;
  return (
    <>
      <EvalImagePicker items={inputs.evalItems} withQuestions={inputs.takesText} />
      {inputs.takesText && <QuestionInput items={inputs.evalItems} maxTextTokens={inputs.maxTextTokens} />}
    </>
  );
}

function PromptInput() {
  const prompt = usePlayground((s) => s.prompt);
  const setPrompt = usePlayground((s) => s.setPrompt);
  return (
    <>
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
    </>
  );
}

function EvalImagePicker({ items, withQuestions }: { items: readonly EvalItemView[]; withQuestions: boolean }) {
  const item = usePlayground((s) => s.image.item);
  const { setEvalItem } = playgroundStore.getState();
  // While typing, "" is not an index yet: keep the text and commit only indices of the eval set.
  const [draft, setDraft] = useState<string | null>(null);
  if (items.length === 0) {
    return (
      <p className="eval-picker-empty" data-testid="eval-picker-empty">
        This model has no eval set (eval.json), so there is no image to run it on.
      </p>
    );
  }
  const last = items.length - 1;
  const current = items[item];
  const stripStart = Math.floor(Math.min(item, last) / STRIP_ITEMS) * STRIP_ITEMS;
  const strip = items.slice(stripStart, stripStart + STRIP_ITEMS);
  const choose = (index: number) => {
    setDraft(null);
    setEvalItem(Math.min(last, Math.max(0, index)));
  };
  return (
    <section className="eval-picker" aria-label="Eval image" data-testid="eval-picker">
      <h2 className="control-heading">Image from the eval set</h2>
      <div className="eval-current">
        {current && <ImageThumbnail image={current.image} size={96} />}
        <div>
          <label>
            Item{' '}
            <input
              type="number"
              data-testid="eval-item-input"
              min={0}
              max={last}
              step={1}
              value={draft ?? String(item)}
              onChange={(e) => {
                setDraft(e.target.value);
                const index = Number(e.target.value);
                if (e.target.value.trim() !== '' && Number.isInteger(index) && index >= 0 && index <= last) setEvalItem(index);
              }}
              onBlur={() => setDraft(null)}
            />{' '}
            of 0–{last}
          </label>
          <p className="eval-item-text" data-testid="eval-item-text">
            {current ? (withQuestions ? `${current.task}: “${current.text}” → ${current.answer}` : `class: ${current.answer}`) : `There is no item ${item}.`}
          </p>
          <button type="button" aria-label="Previous eval item" onClick={() => choose(item - 1)} disabled={item <= 0}>
            ‹
          </button>{' '}
          <button type="button" aria-label="Next eval item" onClick={() => choose(item + 1)} disabled={item >= last}>
            ›
          </button>
        </div>
      </div>
      <div className="eval-strip">
        {strip.map((view, i) => {
          const index = stripStart + i;
          return (
            <button
              key={index}
              type="button"
              className="eval-thumb"
              data-testid={`eval-item-${index}`}
              aria-pressed={index === item}
              aria-label={`Eval item ${index}: ${withQuestions ? view.text : view.answer}`}
              title={`${index}: ${withQuestions ? `${view.text} → ${view.answer}` : view.answer}`}
              onClick={() => choose(index)}
            >
              <ImageThumbnail image={view.image} size={40} />
            </button>
          );
        })}
      </div>
    </section>
  );
}

function QuestionInput({ items, maxTextTokens }: { items: readonly EvalItemView[]; maxTextTokens: number }) {
  const image = usePlayground((s) => s.image);
  const { setQuestion, resetQuestion } = playgroundStore.getState();
  const own = items[image.item]?.text ?? '';
  return (
    <>
      <label htmlFor="question" className="control-heading">
        Question
      </label>
      <input
        id="question"
        type="text"
        data-testid="question-input"
        maxLength={MAX_PROMPT_CHARS}
        value={image.question ?? own}
        onChange={(e) => setQuestion(e.target.value)}
      />
      <p className="prompt-count">
        At most {maxTextTokens} tokens after the image; the answer is the model&apos;s next token.{' '}
        {image.question !== null && image.question !== own && (
          <button type="button" className="link-button" data-testid="question-reset" onClick={resetQuestion}>
            Ask the eval item&apos;s own question
          </button>
        )}
      </p>
    </>
  );
}

/** An RGB image on a canvas, scaled up without smoothing so its pixels (and patches) stay visible. */
function ImageThumbnail({ image, size }: { image: RgbImage; size: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useLayoutEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (!context) return;
    const pixels = context.createImageData(image.width, image.height);
    for (let p = 0; p < image.width * image.height; p++) {
      pixels.data.set(image.rgb.subarray(p * 3, p * 3 + 3), p * 4);
      pixels.data[p * 4 + 3] = 255;
    }
    context.putImageData(pixels, 0, 0);
  }, [image]);
  return <canvas ref={canvas} className="thumbnail" width={image.width} height={image.height} style={{ width: size, height: size }} />;
}
