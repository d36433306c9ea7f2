import { useEffect, useLayoutEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import type { RgbImage } from '../models/image';
import { describeModelSource } from '../models/modelSource';
import type { EvalItemView, ImageChoice, ModelInputs } from '../runtime/runner';
import { MAX_PROMPT_CHARS } from '../state/persistent';
import { playgroundStore, selectModelInputs, usePlayground } from '../state/store';
import { chooseImageFile, IMAGE_FILE_TYPES } from './imageFile';
import { IndexInput, StepButtons } from './IndexPicker';
import { PromptInput } from './PromptInput';

/** Thumbnails in the picker's strip: the page of eval items around the current one. */
const STRIP_ITEMS = 12;

/**
 * What the model reads: a prompt for a text model; an image (an eval item's or the user's) for an image model, and a
 * question about it for a VLM. Until the runner has loaded the model its inputs are unknown, and the prompt is shown.
 */
export function ModelInput() {
  const inputs = usePlayground(selectModelInputs);
  if (inputs?.imageSize == null) return <PromptInput />;
  return (
    <>
      <ImagePicker inputs={inputs} imageSize={inputs.imageSize} />
      {inputs.takesText && <QuestionInput inputs={inputs} />}
    </>
  );
}

/**
 * The image an image model runs on: an eval item (number, arrows, a strip of thumbnails), or one of the user's own,
 * chosen with a file input or dropped on the picker. A model without an eval set offers only the latter.
 */
function ImagePicker({ inputs, imageSize }: { inputs: ModelInputs; imageSize: number }) {
  const source = usePlayground((s) => s.image.source);
  const [problem, setProblem] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const items = inputs.evalItems;
  // A file that could not be read stops mattering once another image is in use.
  useEffect(() => setProblem(null), [source]);

  const chooseFile = async (file: File | undefined) => {
    if (!file) return;
    try {
      await chooseImageFile(file, inputs.modelKey, imageSize);
      setProblem(null);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };
  const carriesFiles = (event: DragEvent) => event.dataTransfer.types.includes('Files');
  const onDragOver = (event: DragEvent) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    setDragging(true);
  };
  const onDrop = (event: DragEvent) => {
    if (!carriesFiles(event)) return;
    // Stopped here, so the picker (not the page's drop handler) says what is wrong with a file it cannot read.
    event.preventDefault();
    event.stopPropagation();
    setDragging(false);
    void chooseFile(event.dataTransfer.files[0]);
  };

  return (
    <section
      className={dragging ? 'image-picker drop-target' : 'image-picker'}
      aria-label="Image"
      data-testid="image-picker"
      onDragOver={onDragOver}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      <h2 className="control-heading">Image</h2>
      {source.kind === 'uploaded' ? (
        <div className="eval-current">
          <ImageThumbnail image={source.upload.image} size={96} />
          <p className="eval-item-text" data-testid="uploaded-image-text">
            Your image “{source.upload.name}”, its centre square scaled to {imageSize}×{imageSize} pixels.
          </p>
        </div>
      ) : items.length === 0 ? (
        <p className="image-upload-prompt" data-testid="image-upload-prompt">
          This model has no eval images to run on: choose an image of your own below, or drop one here.
        </p>
      ) : (
        <EvalItemChoice items={items} item={source.item} withQuestions={inputs.takesText} />
      )}
      {items.length > 0 && <EvalStrip items={items} item={source.kind === 'eval' ? source.item : null} withQuestions={inputs.takesText} />}
      <label className="image-file">
        Your own image{' '}
        <input
          type="file"
          accept={IMAGE_FILE_TYPES.join(',')}
          data-testid="image-file"
          onChange={(e) => {
            void chooseFile(e.target.files?.[0]);
            // Cleared, so choosing the same file again (after picking an eval image) is a change too.
            e.target.value = '';
          }}
        />
      </label>
      <p className="prompt-count">
        PNG, JPEG, WebP or GIF, chosen here or dropped on this box; its centre square is scaled to {imageSize}×{imageSize}.
        It stays on this computer, so a link to this page cannot carry it.
      </p>
      {problem && (
        <p className="image-file-problem" role="alert" data-testid="image-file-error">
          {problem}
        </p>
      )}
    </section>
  );
}

/** The eval item in use: its number (typed, or stepped with arrows), its image, and what it asks or shows. */
function EvalItemChoice({ items, item, withQuestions }: { items: readonly EvalItemView[]; item: number; withQuestions: boolean }) {
  const { setEvalItem } = playgroundStore.getState();
  const current = items[item];
  return (
    <div className="eval-current">
      {current && <ImageThumbnail image={current.image} size={96} />}
      <div>
        <IndexInput label="Eval item" testId="eval-item-input" index={item} count={items.length} onChoose={setEvalItem} />
        <p className="eval-item-text" data-testid="eval-item-text">
          {current ? (withQuestions ? `${current.task}: “${current.text}” → ${current.answer}` : `class: ${current.answer}`) : `There is no item ${item}.`}
        </p>
        <StepButtons index={item} count={items.length} onChoose={setEvalItem} />
      </div>
    </div>
  );
}

/** Thumbnails of the page of eval items around the current one (the first page while an uploaded image is in use). */
function EvalStrip({ items, item, withQuestions }: { items: readonly EvalItemView[]; item: number | null; withQuestions: boolean }) {
  const { setEvalItem } = playgroundStore.getState();
  const stripStart = Math.floor(Math.min(item ?? 0, items.length - 1) / STRIP_ITEMS) * STRIP_ITEMS;
  const strip = items.slice(stripStart, stripStart + STRIP_ITEMS);
  return (
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
            onClick={() => setEvalItem(index)}
          >
            <ImageThumbnail image={view.image} size={40} />
          </button>
        );
      })}
    </div>
  );
}

/** The eval question a VLM is asked when none was typed: the item's own, or for an uploaded image the eval set's first. */
function ownQuestion(items: readonly EvalItemView[], choice: ImageChoice): string {
  return items[choice.source.kind === 'eval' ? choice.source.item : 0]?.text ?? '';
}

function QuestionInput({ inputs }: { inputs: ModelInputs }) {
  const { evalItems: items, maxTextTokens } = inputs;
  const image = usePlayground((s) => s.image);
  const modelName = usePlayground((s) => describeModelSource(s.modelSource));
  const asked = usePlayground((s) => s.run.output?.image);
  const { setQuestion, resetQuestion } = playgroundStore.getState();
  const own = ownQuestion(items, image);
  const question = image.question ?? own;
  // Read from the last run, so only while that run asked what the box shows.
  const unknownWords = asked?.question === question ? asked.unknownWords : [];
  const tokens = useMemo(() => inputs.countTextTokens(question), [inputs, question]);
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
        value={question}
        onChange={(e) => setQuestion(e.target.value)}
      />
      {unknownWords.length > 0 && (
        <p className="question-unknown" data-testid="question-unknown-words">
          Not in the model&apos;s vocabulary: {unknownWords.map((word) => `“${word}”`).join(', ')}. It reads{' '}
          {unknownWords.length === 1 ? 'it' : 'each'} as its unknown token, which tells it nothing about the word.
        </p>
      )}
      <p className="prompt-count" data-testid="question-count">
        {tokens} / {maxTextTokens} tokens after the image
        {tokens > maxTextTokens ? `: ${tokens - maxTextTokens} too many for ${modelName}; shorten the question` : ''}; the answer is
        the model&apos;s next token.{' '}
        {image.source.kind === 'eval' && image.question !== null && image.question !== own && (
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
