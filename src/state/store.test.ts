import { describe, expect, test } from 'vitest';
import type { ModelInputs, RunOutput } from '../runtime/runner';
import { activeTechniques, defaultPersistentState, MAX_PROMPT_CHARS } from './persistent';
import { createPlaygroundStore, selectModelInputs, selectPersistent } from './store';
import { serializeState } from './urlState';

describe('playground store', () => {
  test('starts at the defaults, every technique off with registry defaults', () => {
    const store = createPlaygroundStore();
    expect(selectPersistent(store.getState())).toEqual(defaultPersistentState());
    expect(store.getState().techniques['fastv']).toEqual({ enabled: false, params: { layer: 1, ratio: 0.5, queries: 'last' } });
    expect(store.getState().run).toEqual({ status: 'idle', output: null, error: null, modelLoad: null });
  });

  test('fresh stores do not share state', () => {
    const a = createPlaygroundStore();
    a.getState().setPrompt('changed');
    a.getState().setTechniqueEnabled('fastv', true);
    const b = createPlaygroundStore();
    expect(b.getState().prompt).toBe(defaultPersistentState().prompt);
    expect(b.getState().techniques['fastv']?.enabled).toBe(false);
  });

  test('model and prompt', () => {
    const store = createPlaygroundStore();
    const { setModelSource } = store.getState();
    expect(setModelSource({ kind: 'bundled', name: 'gpt2-small' })).toBeNull();
    expect(setModelSource({ kind: 'bundled', name: '../etc' })).toMatch(/not a model folder name/);
    expect(setModelSource({ kind: 'hub', repo: 'gpt2', revision: 'main', endpoint: 'ftp://mirror' })).toMatch(/http\(s\) URL/);
    expect(store.getState().modelSource).toEqual({ kind: 'bundled', name: 'gpt2-small' });
    const hub = { kind: 'hub', repo: 'openai-community/gpt2', revision: 'main', endpoint: 'http://127.0.0.1:9' } as const;
    expect(setModelSource(hub)).toBeNull();
    expect(store.getState().modelSource).toEqual(hub);
    store.getState().setPrompt('y'.repeat(MAX_PROMPT_CHARS + 10));
    expect(store.getState().prompt).toHaveLength(MAX_PROMPT_CHARS);
  });

  test('the eval image and the question about it; another model starts on its first image and question', () => {
    const store = createPlaygroundStore();
    const { setModelSource, setEvalItem, setQuestion, resetQuestion } = store.getState();
    setModelSource({ kind: 'bundled', name: 'shapes-vqa' });
    setEvalItem(7);
    setEvalItem(-1);
    setEvalItem(2.5);
    expect(store.getState().image).toEqual({ item: 7, question: null });
    setQuestion('how many shapes ?');
    expect(store.getState().image).toEqual({ item: 7, question: 'how many shapes ?' });
    setQuestion('');
    expect(store.getState().image).toEqual({ item: 7, question: '' });
    resetQuestion();
    expect(store.getState().image).toEqual({ item: 7, question: null });
    setQuestion('what color is the star ?');
    setEvalItem(8);
    expect(store.getState().image).toEqual({ item: 8, question: null });
    setQuestion('what color is the star ?');
    // Choosing the model already loaded (the picker's own entry) keeps the choice; another model resets it.
    setModelSource({ kind: 'bundled', name: 'shapes-vqa' });
    expect(store.getState().image).toEqual({ item: 8, question: 'what color is the star ?' });
    setModelSource({ kind: 'bundled', name: 'shapes-vit' });
    expect(store.getState().image).toEqual({ item: 0, question: null });
    expect(store.getState().prompt).toBe(defaultPersistentState().prompt);
  });

  test("the controls read the current model's inputs only, not a previous model's", () => {
    const store = createPlaygroundStore();
    const vqa: ModelInputs = { modelKey: 'bundled:shapes-vqa', takesText: true, takesImage: true, maxTextTokens: 8, evalItems: [] };
    store.getState().modelReady(vqa);
    expect(selectModelInputs(store.getState())).toBeNull();
    store.getState().setModelSource({ kind: 'bundled', name: 'shapes-vqa' });
    expect(selectModelInputs(store.getState())).toBe(vqa);
    store.getState().runFailed('The question is 9 tokens long');
    expect(selectModelInputs(store.getState())).toBe(vqa);
  });

  test('technique switches and parameters, coerced into their specs', () => {
    const store = createPlaygroundStore();
    const { setTechniqueEnabled, setTechniqueParam } = store.getState();
    setTechniqueEnabled('attention-dropout', true);
    setTechniqueParam('attention-dropout', 'rate', 0.1 + 0.05);
    setTechniqueParam('attention-dropout', 'samples', 99);
    setTechniqueParam('attention-dropout', 'seed', '42.6');
    setTechniqueParam('fastv', 'queries', 'all');
    setTechniqueParam('fastv', 'queries', 'nonsense');
    setTechniqueParam('fastv', 'ratio', Number.NaN);
    setTechniqueParam('fastv', 'unknown', 1);
    setTechniqueParam('unknown', 'ratio', 1);
    const { techniques } = store.getState();
    expect(techniques['attention-dropout']).toEqual({ enabled: true, params: { rate: 0.15, seed: 43, samples: 32 } });
    expect(techniques['fastv']).toEqual({ enabled: false, params: { layer: 1, ratio: 0.5, queries: 'all' } });
    expect(Object.keys(techniques)).toEqual(['sliding-window', 'fastv', 'attention-dropout']);
    expect(activeTechniques(store.getState())).toEqual([{ id: 'attention-dropout', params: { rate: 0.15, seed: 43, samples: 32 } }]);
    store.getState().resetTechniqueParams('attention-dropout');
    expect(store.getState().techniques['attention-dropout']).toEqual({ enabled: true, params: { rate: 0.1, seed: 1234, samples: 8 } });
  });

  test('active techniques come in registry order', () => {
    const store = createPlaygroundStore();
    store.getState().setTechniqueEnabled('attention-dropout', true);
    store.getState().setTechniqueEnabled('sliding-window', true);
    expect(activeTechniques(store.getState()).map((t) => t.id)).toEqual(['sliding-window', 'attention-dropout']);
  });

  test('view', () => {
    const store = createPlaygroundStore();
    const { setLayer, setHead, setPanelVisible, setControlsHidden } = store.getState();
    setLayer(3);
    setLayer(-1);
    setLayer(1.5);
    setHead(2);
    setHead(-2);
    setPanelVisible('flops', false);
    setControlsHidden(true);
    expect(store.getState().view).toEqual({
      layer: 3,
      head: 2,
      panels: { attention: true, flops: false, predictions: true, survival: true, image: true },
      controlsHidden: true,
    });
    setHead('mean');
    expect(store.getState().view.head).toBe('mean');
  });

  test('run status keeps the last output while the next run is pending or failed', () => {
    const store = createPlaygroundStore();
    const output = { tokenLabels: ['a'] } as unknown as RunOutput;
    store.getState().runStarted();
    expect(store.getState().run.status).toBe('running');
    store.getState().modelLoadProgressed({ loadedBytes: 10, totalBytes: null });
    expect(store.getState().run.modelLoad).toEqual({ loadedBytes: 10, totalBytes: null });
    store.getState().runSucceeded(output);
    expect(store.getState().run).toEqual({ status: 'done', output, error: null, modelLoad: null });
    store.getState().runStarted();
    store.getState().modelLoadProgressed({ loadedBytes: 5, totalBytes: 20 });
    store.getState().runFailed('out of memory');
    expect(store.getState().run).toEqual({ status: 'error', output, error: 'out of memory', modelLoad: null });
  });

  test('a link replaces the persistent state and leaves the run alone', () => {
    const store = createPlaygroundStore();
    store.getState().runFailed('boom');
    const wanted = defaultPersistentState();
    wanted.prompt = 'shared';
    wanted.modelSource = { kind: 'bundled', name: 'shapes-vqa' };
    wanted.image = { item: 12, question: 'how many stars ?' };
    wanted.techniques['fastv'] = { enabled: true, params: { layer: 1, ratio: 0.25, queries: 'last' } };
    wanted.view.controlsHidden = true;
    store.getState().loadLink(serializeState(wanted));
    expect(selectPersistent(store.getState())).toEqual(wanted);
    expect(store.getState().linkError).toBeNull();
    expect(store.getState().run.error).toBe('boom');
  });

  test('a bad link falls back to the defaults and says why', () => {
    const store = createPlaygroundStore();
    store.getState().setPrompt('typed');
    store.getState().loadLink('#v=9&prompt=x');
    expect(selectPersistent(store.getState())).toEqual(defaultPersistentState());
    expect(store.getState().linkError).toMatch(/newer version/);
    store.getState().dismissLinkError();
    expect(store.getState().linkError).toBeNull();
  });

  test('an empty hash means the defaults, without an error', () => {
    const store = createPlaygroundStore();
    store.getState().setPrompt('typed');
    store.getState().loadLink('');
    expect(store.getState().prompt).toBe(defaultPersistentState().prompt);
    expect(store.getState().linkError).toBeNull();
  });
});
