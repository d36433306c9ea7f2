import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelConfig, readsPreprocessorConfig } from '../models/config';
import { createTokenizer, labelTokenizer } from '../models/tokenizer';
import type { RgbImage } from '../models/image';
import { attentionLayersToRead, compareWithDense, imageTokenLabels, modelInput, NoImageChosenError, patchesPerLayer, readEvalSet, readPromptItems, type RunRequest } from './runner';

/** A bundled model's parts as the loader makes them, read from public/models/ (no GPU, no fetch). */
function bundled(name: string) {
  const readJson = (file: string): unknown => JSON.parse(readFileSync(new URL(`../../public/models/${name}/${file}`, import.meta.url), 'utf8'));
  const raw = readJson('config.json');
  const config = parseModelConfig(raw, readsPreprocessorConfig(raw) ? readJson('preprocessor_config.json') : undefined);
  const tokenizer = config.labels ? labelTokenizer(config.labels) : createTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'), config.vocab_size);
  return { name, config, tokenizer, evalSet: readJson('eval.json') };
}

describe('comparing the current prediction with the dense reference', () => {
  it('averages Monte-Carlo samples, reports their spread, KL(dense‖current) and top-1 agreement', () => {
    const dense = Float32Array.from([0.5, 0.3, 0.2]);
    const samples = Float32Array.from([0.6, 0.2, 0.2, /**/ 0.2, 0.6, 0.2]);
    const { predictions, comparison } = compareWithDense(dense, samples, 3, String);
    expect(predictions.map((p) => p.tokenId)).toEqual([0, 1, 2]); // means 0.4, 0.4, 0.2: tie → lower id first
    expect(predictions[0]!.currentProb).toBeCloseTo(0.4);
    expect(predictions[0]!.currentStd).toBeCloseTo(0.2);
    expect(predictions[2]!.currentStd).toBeCloseTo(0);
    expect(comparison?.klDenseToCurrent).toBeCloseTo(0.5 * Math.log(0.5 / 0.4) + 0.3 * Math.log(0.3 / 0.4), 6);
    expect(comparison?.top1Agrees).toBe(true);
  });

  it('is zero KL and agreeing for identical distributions', () => {
    const p = Float32Array.from([0.1, 0.7, 0.2]);
    const { comparison } = compareWithDense(p, p, 3, String);
    expect(comparison?.klDenseToCurrent).toBeCloseTo(0, 9);
    expect(comparison?.top1Agrees).toBe(true);
  });

  it('ranks the current distribution alone while the dense reference is still loading', () => {
    const { predictions, comparison } = compareWithDense(null, Float32Array.from([0.2, 0.5, 0.3]), 3, String);
    expect(predictions.map((p) => [p.tokenId, p.denseProb])).toEqual([[1, null], [2, null], [0, null]]);
    expect(comparison).toBeNull();
  });
});

describe('the run input of each kind of model', () => {
  const vqa = bundled('shapes-vqa');
  const vqaEval = readEvalSet(vqa);
  const vit = bundled('shapes-vit');
  const vitEval = readEvalSet(vit);
  const request = (image: RunRequest['image'], prompt = 'ignored'): Pick<RunRequest, 'prompt' | 'image'> => ({ prompt, image });
  const evalImage = (item: number, question: string | null = null): RunRequest['image'] => ({ source: { kind: 'eval', item }, question });
  /** A plain image of the user's, as the picker makes it: `size` pixels a side. */
  const grey = (size: number): RgbImage => ({ width: size, height: size, rgb: new Uint8Array(size * size * 3).fill(128) });
  const uploaded = (image: RgbImage, question: string | null = null): RunRequest['image'] => ({ source: { kind: 'uploaded', upload: { id: 1, name: 'mine.png', image } }, question });

  it('a VLM asks the eval item its own question, or the typed one, after the image', () => {
    expect(vqaEval.views[0]).toMatchObject({ task: 'color', text: 'what color is the square ?', answer: 'green' });
    const own = modelInput(vqa, vqaEval, request(evalImage(0)));
    expect(own.ids).toEqual([3, 4, 5, 6, 13, 2]);
    expect(own.pixels).toHaveLength(3 * 64 * 64);
    expect(own.image).toMatchObject({ origin: { kind: 'eval', item: 0, evalItem: { answer: 'green' } }, question: 'what color is the square ?', unknownWords: [], grid: 8 });
    expect(own.image?.image).toBe(vqaEval.views[0]!.image);
    const typed = modelInput(vqa, vqaEval, request(evalImage(1, 'How many shapes ?')));
    expect(typed.ids).toEqual([7, 8, 20, 2]);
    expect(typed.image).toMatchObject({ origin: { item: 1, evalItem: { text: 'how many shapes ?', answer: '1' } }, question: 'How many shapes ?' });
  });

  it("a VLM asks about an uploaded image the eval set's first question, or the typed one, and names words it does not know", () => {
    const image = grey(64);
    const first = modelInput(vqa, vqaEval, request(uploaded(image)));
    expect(first.ids).toEqual([3, 4, 5, 6, 13, 2]);
    expect(first.image).toMatchObject({ origin: { kind: 'uploaded', name: 'mine.png' }, question: 'what color is the square ?', unknownWords: [] });
    expect(first.image?.image).toBe(image);
    expect(Array.from(first.pixels!.slice(0, 2))).toEqual([expect.closeTo(128 / 127.5 - 1, 6), expect.closeTo(128 / 127.5 - 1, 6)]);
    const typed = modelInput(vqa, vqaEval, request(uploaded(image, 'is there a big bird ?')));
    expect(typed.ids).toEqual([5, 9, 10, 1, 1, 2]);
    expect(typed.image).toMatchObject({ question: 'is there a big bird ?', unknownWords: ['big', 'bird'] });
    // Without an eval set there is no first question: the user types one.
    expect(() => modelInput(vqa, { items: [], views: [] }, request(uploaded(image)))).toThrow('Type a question about the image: shapes-vqa needs at least one text token.');
  });

  it('a classifier takes only the image; its answers are its labels', () => {
    const input = modelInput(vit, vitEval, request(evalImage(2, 'anything')));
    expect(input.ids).toEqual([]);
    expect(input.image).toMatchObject({ origin: { kind: 'eval', item: 2 }, question: null, grid: 8 });
    expect(vitEval.views.slice(0, 3).map((v) => v.answer)).toEqual(['three', 'three', 'two']);
    const own = modelInput(vit, vitEval, request(uploaded(grey(64))));
    expect(own.image).toMatchObject({ origin: { kind: 'uploaded', name: 'mine.png' }, question: null, unknownWords: [] });
  });

  it('a model without an eval set waits for an image of the user, then runs on it', () => {
    const hub = { ...vit, name: 'owner/vit@main' };
    const none = { items: [], views: [] };
    expect(() => modelInput(hub, none, request(evalImage(0)))).toThrow(NoImageChosenError);
    expect(() => modelInput(hub, none, request(evalImage(0)))).toThrow('owner/vit@main has no eval images: choose an image of your own in the image picker.');
    expect(modelInput(hub, none, request(uploaded(grey(64)))).pixels).toHaveLength(3 * 64 * 64);
  });

  it('says how to fix an input the model cannot take', () => {
    expect(() => modelInput(vqa, vqaEval, request(evalImage(400)))).toThrow(
      "There is no eval image 400: shapes-vqa's eval set has 400 items (0–399). Pick one in the image picker.",
    );
    expect(() => modelInput(vqa, vqaEval, request(evalImage(0, '  ')))).toThrow('Type a question about the image: shapes-vqa needs at least one text token.');
    expect(() => modelInput(vqa, vqaEval, request(evalImage(0, 'is there a red star or a blue square ?')))).toThrow(
      'The question is 10 tokens long but shapes-vqa takes at most 8 after its 64 image tokens. Shorten it.',
    );
    expect(() => modelInput(vit, vitEval, request(uploaded(grey(32))))).toThrow('the model takes 64×64 images, got 32×32');
    expect(() => readEvalSet({ ...vqa, evalSet: { items: 'none' } })).toThrow(/shapes-vqa's eval.json is not an evaluation set this page can read \(/);
  });

  it('a text model tokenizes the prompt and ignores the image choice', () => {
    const text = { name: 'tiny', config: parseModelConfig({ n_layer: 1, n_head: 1, n_embd: 8, n_positions: 4, vocab_size: 300 }), tokenizer: createTokenizer(undefined, undefined, 300) };
    expect(readEvalSet({ ...text, evalSet: null })).toEqual({ items: [], views: [] });
    expect(modelInput(text, { items: [], views: [] }, request(evalImage(5), 'abc'))).toEqual({ ids: [97, 98, 99], pixels: undefined, image: null });
    expect(() => modelInput(text, { items: [], views: [] }, request(evalImage(0), 'abcde'))).toThrow('The prompt is 5 tokens long but tiny takes at most 4. Shorten it.');
    expect(() => modelInput(text, { items: [], views: [] }, request(evalImage(0), ''))).toThrow(/Type a prompt/);
  });

  it('labels image rows as the engine orders them: patches row-major, then a ViT\'s CLS', () => {
    const vitLabels = imageTokenLabels(vit.config);
    expect(vitLabels).toHaveLength(65);
    expect([vitLabels[0], vitLabels[9], vitLabels[63], vitLabels[64]]).toEqual(['patch(0,0)', 'patch(1,1)', 'patch(7,7)', 'CLS']);
    expect(imageTokenLabels(vqa.config)).toHaveLength(64);
  });

  it('reads the surviving patches of each layer out of the computed positions', () => {
    const all = Int32Array.from({ length: 6 }, (_, i) => i);
    const pruned = Int32Array.from([0, 3, 4, 5]);
    expect(patchesPerLayer([all, pruned], 4)).toEqual([Int32Array.from([0, 1, 2, 3]), Int32Array.from([0, 3])]);
  });
});

describe("a text model's eval prompts", () => {
  it("offers recall-lm's eval items with their answers, none for image models, and a notice for an eval.json it cannot read", () => {
    const recallLm = bundled('recall-lm');
    const { items, notices } = readPromptItems(recallLm);
    expect(items).toHaveLength((recallLm.evalSet as { items: unknown[] }).items.length);
    expect(items[0]).toMatchObject({ task: 'needle', length: 128, depth: 0, key: 'E', answer: '398' });
    expect(items[0]!.prompt.endsWith('?E')).toBe(true);
    expect(notices).toEqual([]);
    expect(readPromptItems(bundled('shapes-vqa'))).toEqual({ items: [], notices: [] });
    expect(readPromptItems({ ...recallLm, evalSet: { items: [{ task: 'needle', prompt: 3 }] } })).toEqual({
      items: [],
      notices: ["recall-lm's eval.json is not a set of prompts this page can read (item 0 is not {task, length, depth, prompt, answer} with a text prompt and answer), so no eval prompts are offered."],
    });
  });
});

describe('the attention a run reads back', () => {
  const gpt2Shape = { n_layer: 4, n_head: 4 };

  it('is every layer while they fit 16 MiB, so choosing a layer only redraws', () => {
    expect(attentionLayersToRead(gpt2Shape, 40, 2)).toEqual([0, 1, 2, 3]);
    // 4 layers × 4 heads × 512² × 4 bytes = 16 MiB exactly.
    expect(attentionLayersToRead(gpt2Shape, 512, 2)).toEqual([0, 1, 2, 3]);
  });

  it("is only the view's layer for longer inputs", () => {
    expect(attentionLayersToRead(gpt2Shape, 513, 2)).toEqual([2]);
    expect(attentionLayersToRead(gpt2Shape, 1024, 0)).toEqual([0]);
  });
});
