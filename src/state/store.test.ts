import { describe, expect, test } from 'vitest';
import type { RgbImage } from '../models/image';
import type { ImageChoice, ModelInputs, RunOutput } from '../runtime/runner';
import { activeTechniques, defaultPersistentState, MAX_PROMPT_CHARS } from './persistent';
import { createPlaygroundStore, isContinuousEdit, runInputKey, runRequestKey, selectModelInputs, selectPersistent, selectRunRequest } from './store';
import { serializeState } from './urlState';

const evalImage = (item: number, question: string | null = null): ImageChoice => ({ source: { kind: 'eval', item }, question });
/** An image of the user's as the picker hands it over: cut and scaled to the model's input. */
const photo = (value: number): RgbImage => ({ width: 64, height: 64, rgb: new Uint8Array(64 * 64 * 3).fill(value) });

describe('playground store', () => {
  test('starts at the defaults, every technique off with registry defaults', () => {
    const store = createPlaygroundStore();
    expect(selectPersistent(store.getState())).toEqual(defaultPersistentState());
    expect(store.getState().techniques['fastv']).toEqual({ enabled: false, params: { layer: 1, ratio: 0.5, queries: 'last' } });
    expect(store.getState().run).toEqual({ status: 'idle', output: null, outputRequest: null, error: null });
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
    expect(store.getState().image).toEqual(evalImage(7));
    setQuestion('how many shapes ?');
    expect(store.getState().image).toEqual(evalImage(7, 'how many shapes ?'));
    setQuestion('');
    expect(store.getState().image).toEqual(evalImage(7, ''));
    resetQuestion();
    expect(store.getState().image).toEqual(evalImage(7));
    setQuestion('what color is the star ?');
    setEvalItem(8);
    expect(store.getState().image).toEqual(evalImage(8));
    setQuestion('what color is the star ?');
    // Choosing the model already loaded (the picker's own entry) keeps the choice; another model resets it.
    setModelSource({ kind: 'bundled', name: 'shapes-vqa' });
    expect(store.getState().image).toEqual(evalImage(8, 'what color is the star ?'));
    setModelSource({ kind: 'bundled', name: 'shapes-vit' });
    expect(store.getState().image).toEqual(evalImage(0));
    expect(store.getState().prompt).toBe(defaultPersistentState().prompt);
  });

  test("an image of the user's: in memory, keeping a typed question, named but not carried by the link", () => {
    const store = createPlaygroundStore();
    const { setModelSource, setUploadedImage, setQuestion, setEvalItem } = store.getState();
    setModelSource({ kind: 'bundled', name: 'shapes-vqa' });
    setQuestion('how many stars ?');
    const image = photo(7);
    setUploadedImage('holiday.jpg', image);
    expect(store.getState().image).toEqual({ source: { kind: 'uploaded', upload: { id: 1, name: 'holiday.jpg', image } }, question: 'how many stars ?' });
    expect(selectPersistent(store.getState()).image).toEqual({ source: { kind: 'uploaded' }, question: 'how many stars ?' });
    expect(serializeState(selectPersistent(store.getState()))).toContain('&image=own&question=how+many+stars+%3F&');
    expect(selectRunRequest(store.getState()).image.source).toEqual({ kind: 'uploaded', upload: { id: 1, name: 'holiday.jpg', image } });
    // Each upload is a new image, even of the same file.
    setUploadedImage('holiday.jpg', photo(7));
    expect(store.getState().image.source).toMatchObject({ upload: { id: 2 } });
    setEvalItem(3);
    expect(store.getState().image).toEqual(evalImage(3));
    setUploadedImage('holiday.jpg', image);
    setModelSource({ kind: 'bundled', name: 'shapes-vit' });
    expect(store.getState().image).toEqual(evalImage(0));
  });

  test('requests are told apart by upload id, not by copying the pixels', () => {
    const store = createPlaygroundStore();
    store.getState().setUploadedImage('a.png', photo(1));
    const first = runRequestKey(selectRunRequest(store.getState()));
    expect(first).toContain('"upload":{"id":1,"name":"a.png","image":{"width":64,"height":64}}');
    expect(first.length).toBeLessThan(2000);
    store.getState().setUploadedImage('a.png', photo(2));
    expect(runRequestKey(selectRunRequest(store.getState()))).not.toBe(first);
  });

  test('another layer of the same input runs the model only when the output on show did not capture it', () => {
    const store = createPlaygroundStore();
    const atLayer = (layer: number) => {
      store.getState().setLayer(layer);
      return selectRunRequest(store.getState());
    };
    const inputKey = runInputKey(atLayer(0));
    const everyLayer = { inputKey, attentionLayers: [0, 1, 2, 3] };
    expect(runRequestKey(atLayer(2), everyLayer)).toBe(runRequestKey(atLayer(0), everyLayer));
    const viewLayerOnly = { inputKey, attentionLayers: [0] };
    expect(runRequestKey(atLayer(2), viewLayerOnly)).not.toBe(runRequestKey(atLayer(0), viewLayerOnly));
    expect(runRequestKey(atLayer(0), viewLayerOnly)).toBe(inputKey);
    store.getState().setPrompt('another input');
    expect(runRequestKey(selectRunRequest(store.getState()), everyLayer)).not.toBe(inputKey);
  });

  test('a switch or a menu choice runs at once; typing and slider drags are debounced', () => {
    const store = createPlaygroundStore();
    const { setPrompt, setTechniqueEnabled, setTechniqueParam, setLayer } = store.getState();
    const request = () => selectRunRequest(store.getState());
    const first = request();
    expect(isContinuousEdit(null, first)).toBe(false);
    setPrompt('the cat');
    const typed = request();
    expect(isContinuousEdit(first, typed)).toBe(true);
    setTechniqueEnabled('fastv', true);
    const switched = request();
    expect(isContinuousEdit(typed, switched)).toBe(false);
    setTechniqueParam('fastv', 'ratio', 0.7);
    expect(request().active).not.toEqual(switched.active);
    expect(isContinuousEdit(switched, request())).toBe(true);
    const dragged = request();
    setLayer(1);
    expect(isContinuousEdit(dragged, request())).toBe(false);
  });

  test("a link made on the sender's own image opens on the first eval image, with a note until an image is chosen", () => {
    const store = createPlaygroundStore();
    const shared = defaultPersistentState();
    shared.modelSource = { kind: 'bundled', name: 'shapes-vqa' };
    shared.image = { source: { kind: 'uploaded' }, question: 'how many stars ?' };
    store.getState().loadLink(serializeState(shared));
    expect(store.getState().image).toEqual(evalImage(0, 'how many stars ?'));
    expect(store.getState().linkImageLeftOut).toBe(true);
    expect(store.getState().linkError).toBeNull();
    store.getState().dismissLinkImageNote();
    expect(store.getState().linkImageLeftOut).toBe(false);

    store.getState().loadLink(serializeState(shared));
    store.getState().setUploadedImage('mine.png', photo(3));
    expect(store.getState().linkImageLeftOut).toBe(false);
    store.getState().loadLink(serializeState(shared));
    store.getState().setEvalItem(5);
    expect(store.getState().linkImageLeftOut).toBe(false);
    store.getState().loadLink(serializeState(shared));
    store.getState().loadLink('');
    expect(store.getState().linkImageLeftOut).toBe(false);
  });

  test("the controls read the current model's inputs only, not a previous model's", () => {
    const store = createPlaygroundStore();
    const vqa: ModelInputs = { modelKey: 'bundled:shapes-vqa', takesText: true, imageSize: 64, maxTextTokens: 8, evalItems: [], promptItems: [], countTextTokens: (text) => text.length, shape: { n_layer: 4, n_head: 4 } };
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
    expect(Object.keys(techniques)).toEqual(['sliding-window', 'sale', 'dhsa', 'fastv', 'attention-dropout']);
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

  test('run status keeps the last output, and the request it answered, while the next run is pending or failed', () => {
    const store = createPlaygroundStore();
    const output = { tokenLabels: ['a'] } as unknown as RunOutput;
    const outputRequest = selectRunRequest(store.getState());
    store.getState().runStarted();
    expect(store.getState().run.status).toBe('running');
    store.getState().runSucceeded(output, outputRequest);
    expect(store.getState().run).toEqual({ status: 'done', output, outputRequest, error: null });
    store.getState().setPrompt('too long');
    store.getState().runStarted();
    store.getState().runFailed('out of memory');
    expect(store.getState().run).toEqual({ status: 'error', output, outputRequest, error: 'out of memory' });
  });

  test("a download's progress outlives the run that started it, until its last byte or a failure", () => {
    const store = createPlaygroundStore();
    const output = { tokenLabels: ['a'] } as unknown as RunOutput;
    store.getState().runStarted();
    store.getState().downloadProgressed({ loadedBytes: 10, totalBytes: null, includesReferenceRuntime: true });
    expect(store.getState().download).toEqual({ loadedBytes: 10, totalBytes: null, includesReferenceRuntime: true });
    store.getState().runSucceeded(output, selectRunRequest(store.getState()));
    store.getState().downloadProgressed({ loadedBytes: 15, totalBytes: 20, includesReferenceRuntime: true });
    expect(store.getState().download).toEqual({ loadedBytes: 15, totalBytes: 20, includesReferenceRuntime: true });
    store.getState().downloadProgressed({ loadedBytes: 20, totalBytes: 20, includesReferenceRuntime: true });
    expect(store.getState().download).toBeNull();
    store.getState().downloadProgressed({ loadedBytes: 5, totalBytes: 20, includesReferenceRuntime: false });
    store.getState().runFailed('the model could not be downloaded');
    expect(store.getState().download).toBeNull();
  });

  test('the dense reference completes the output it belongs to, and no later one', () => {
    const store = createPlaygroundStore();
    const forward = {};
    const shown = { forward, dense: null } as unknown as RunOutput;
    const complete = { forward, dense: { klDenseToCurrent: 0.1 } } as unknown as RunOutput;
    store.getState().runSucceeded(shown, selectRunRequest(store.getState()));
    store.getState().denseReferenceArrived(complete);
    expect(store.getState().run.output).toBe(complete);
    const next = { forward: {}, dense: null } as unknown as RunOutput;
    store.getState().runSucceeded(next, selectRunRequest(store.getState()));
    store.getState().denseReferenceArrived(complete);
    expect(store.getState().run.output).toBe(next);
  });

  test('a model waiting for an image is neither done nor failed, and shows no earlier output as its own', () => {
    const store = createPlaygroundStore();
    store.getState().runSucceeded({ tokenLabels: ['a'] } as unknown as RunOutput, selectRunRequest(store.getState()));
    store.getState().runStarted();
    store.getState().runAwaitsImage();
    expect(store.getState().run).toEqual({ status: 'idle', output: null, outputRequest: null, error: null });
  });

  test('a link replaces the persistent state and leaves the run alone', () => {
    const store = createPlaygroundStore();
    store.getState().runFailed('boom');
    const wanted = defaultPersistentState();
    wanted.prompt = 'shared';
    wanted.modelSource = { kind: 'bundled', name: 'shapes-vqa' };
    wanted.image = evalImage(12, 'how many stars ?');
    wanted.techniques['fastv'] = { enabled: true, params: { layer: 1, ratio: 0.25, queries: 'last' } };
    wanted.view.controlsHidden = true;
    store.getState().loadLink(serializeState(wanted));
    expect(selectPersistent(store.getState())).toEqual(wanted);
    expect(store.getState().linkError).toBeNull();
    expect(store.getState().run.error).toBe('boom');
  });

  test('a link that cannot be read falls back to the defaults and says why', () => {
    const store = createPlaygroundStore();
    store.getState().setPrompt('typed');
    store.getState().loadLink('#v=2&prompt=x');
    expect(selectPersistent(store.getState())).toEqual(defaultPersistentState());
    expect(store.getState().linkError).toMatch(/cut short/);
    expect(store.getState().settingNotes).toEqual([]);
    store.getState().dismissLinkError();
    expect(store.getState().linkError).toBeNull();
  });

  test("a link's notes on what it could not apply are kept until dismissed or the next link", () => {
    const store = createPlaygroundStore();
    const shared = defaultPersistentState();
    shared.prompt = 'kept';
    store.getState().loadLink(`${serializeState(shared)}&theme=dark`);
    expect(store.getState().prompt).toBe('kept');
    expect(store.getState().linkError).toBeNull();
    expect(store.getState().settingNotes).toEqual(['"theme" is not a setting this page knows; it was left out.']);
    store.getState().dismissSettingNotes();
    expect(store.getState().settingNotes).toEqual([]);
    store.getState().loadLink(`${serializeState(shared)}&theme=dark`);
    store.getState().loadLink(serializeState(shared));
    expect(store.getState().settingNotes).toEqual([]);
  });

  test('an empty hash means the defaults, without an error', () => {
    const store = createPlaygroundStore();
    store.getState().setPrompt('typed');
    store.getState().loadLink('');
    expect(store.getState().prompt).toBe(defaultPersistentState().prompt);
    expect(store.getState().linkError).toBeNull();
  });
});

describe('settings fitted to the loaded model', () => {
  const recallLm: ModelInputs = { modelKey: 'bundled:recall-lm', takesText: true, imageSize: null, maxTextTokens: 1024, evalItems: [], promptItems: [], countTextTokens: (text) => text.length, shape: { n_layer: 2, n_head: 4 } };
  const pastTheModel = () => {
    const state = defaultPersistentState();
    state.techniques['fastv'] = { enabled: true, params: { layer: 5, ratio: 0.5, queries: 'last' } };
    state.techniques['sliding-window'] = { enabled: true, params: { sinkTokens: 4, windowTokens: 64, fromLayer: 47 } };
    state.view.layer = 7;
    state.view.head = 20;
    return state;
  };
  const fittedNotes = [
    'Sliding window + sinks\'s "From layer" was 47, past this model\'s last layer (1); it is now 1.',
    'FastV token pruning\'s "Prune at layer K" was 5, past this model\'s last layer (1); it is now 1.',
    "The view's layer was 7, past this model's last layer (1); it now shows layer 1.",
    "The view's head was 20, past this model's last head (3); it now shows the mean of heads.",
  ];

  test('a link past the model is fitted when the model loads, with a note for each change', () => {
    const store = createPlaygroundStore();
    store.getState().loadLink(serializeState(pastTheModel()));
    expect(store.getState().techniques['fastv']?.params['layer']).toBe(5);
    store.getState().modelReady(recallLm);
    const { techniques, view, settingNotes } = store.getState();
    expect(techniques['fastv']).toEqual({ enabled: true, params: { layer: 1, ratio: 0.5, queries: 'last' } });
    expect(techniques['sliding-window']?.params['fromLayer']).toBe(1);
    expect(view).toMatchObject({ layer: 1, head: 'mean' });
    expect(settingNotes).toEqual(fittedNotes);
    // Every run reports the model again; what fits stays as it is, without another note.
    store.getState().modelReady(recallLm);
    expect(store.getState().settingNotes).toEqual(fittedNotes);
  });

  test('a link to the model already loaded is fitted at once', () => {
    const store = createPlaygroundStore();
    store.getState().modelReady(recallLm);
    store.getState().loadLink(`${serializeState(pastTheModel())}&theme=dark`);
    expect(store.getState().techniques['fastv']?.params['layer']).toBe(1);
    expect(store.getState().settingNotes).toEqual(['"theme" is not a setting this page knows; it was left out.', ...fittedNotes]);
  });

  test("another model's shape fits nothing", () => {
    const store = createPlaygroundStore();
    store.getState().loadLink(serializeState(pastTheModel()));
    store.getState().modelReady({ ...recallLm, modelKey: 'bundled:tiny-random-gpt2' });
    expect(store.getState().techniques['fastv']?.params['layer']).toBe(5);
    expect(store.getState().settingNotes).toEqual([]);
  });

  test("a layer parameter is clamped to the loaded model's layers, and to the largest model before one loads", () => {
    const store = createPlaygroundStore();
    store.getState().setTechniqueParam('sliding-window', 'fromLayer', 99);
    expect(store.getState().techniques['sliding-window']?.params['fromLayer']).toBe(47);
    store.getState().modelReady(recallLm);
    store.getState().setTechniqueParam('sliding-window', 'fromLayer', 3);
    store.getState().setTechniqueParam('fastv', 'layer', 0);
    expect(store.getState().techniques['sliding-window']?.params['fromLayer']).toBe(1);
    expect(store.getState().techniques['fastv']?.params['layer']).toBe(1);
    // Parameters that are no layer index keep their own bounds.
    store.getState().setTechniqueParam('sliding-window', 'windowTokens', 1024);
    expect(store.getState().techniques['sliding-window']?.params['windowTokens']).toBe(1024);
  });
});
