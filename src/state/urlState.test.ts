import { describe, expect, test } from 'vitest';
import { HUB_ENDPOINT } from '../models/modelSource';
import { techniques } from '../techniques/registry';
import { defaultPersistentState, MAX_PROMPT_CHARS, type PersistentState } from './persistent';
import { parseHash, serializeState } from './urlState';

function edited(change: (state: PersistentState) => void): PersistentState {
  const state = defaultPersistentState();
  change(state);
  return state;
}

function errorOf(hash: string): string {
  const result = parseHash(hash);
  if (!('error' in result)) throw new Error(`expected an error for ${hash}`);
  return result.error;
}

const valid = serializeState(defaultPersistentState());

describe('serializeState / parseHash round trip', () => {
  test('defaults', () => {
    expect(parseHash(valid)).toEqual({ state: defaultPersistentState() });
  });

  test('every field changed, seeds and awkward prompt characters included', () => {
    const state = edited((s) => {
      s.modelSource = { kind: 'bundled', name: 'gpt2-small_v2.1' };
      s.prompt = 'a & b = c?\n#tag 100% "quoted" ünïcödé 🦊 + plus, comma';
      s.techniques['sliding-window'] = { enabled: true, params: { sinkTokens: 0, windowTokens: 1024, fromLayer: 3, granularity: 'block' } };
      s.techniques['fastv'] = { enabled: true, params: { layer: 5, ratio: 0.75, queries: 'all' } };
      s.techniques['attention-dropout'] = { enabled: true, params: { rate: 0.9, seed: 2147483647, samples: 32 } };
      s.image = { source: { kind: 'eval', item: 399 }, question: 'is there a red star ?' };
      s.view = { layer: 11, head: 7, panels: { attention: true, flops: false, predictions: true, survival: false, image: true }, controlsHidden: true };
    });
    const hash = serializeState(state);
    expect(parseHash(hash)).toEqual({ state });
    expect(parseHash(hash.slice(1))).toEqual({ state });
  });

  test('a prompt of exactly the maximum length', () => {
    const state = edited((s) => (s.prompt = 'é'.repeat(MAX_PROMPT_CHARS)));
    expect(parseHash(serializeState(state))).toEqual({ state });
  });

  test('hub models, with and without a revision', () => {
    const state = edited((s) => (s.modelSource = { kind: 'hub', repo: 'openai-community/gpt2', revision: 'refs/pr/1', endpoint: HUB_ENDPOINT }));
    const hash = serializeState(state);
    expect(hash).toContain('&model=hub:openai-community/gpt2@refs/pr/1&');
    expect(parseHash(hash)).toEqual({ state });
    const bare = parseHash(valid.replace('model=recall-lm', 'model=hub:distilgpt2'));
    expect(bare).toEqual({ state: edited((s) => (s.modelSource = { kind: 'hub', repo: 'distilgpt2', revision: 'main', endpoint: HUB_ENDPOINT })) });
  });

  test('an empty prompt and no visible panels', () => {
    const state = edited((s) => {
      s.prompt = '';
      s.view.panels = { attention: false, flops: false, predictions: false, survival: false, image: false };
    });
    expect(parseHash(serializeState(state))).toEqual({ state });
  });

  test('the link stays human-readable', () => {
    expect(valid).toMatch(/^#v=1&model=recall-lm&prompt=the\+cat\+sat/);
    expect(valid).toContain('&fastv=off&fastv.layer=1&fastv.ratio=0.5&fastv.queries=last&');
    expect(valid).toContain('&panels=attention,flops,predictions,survival,image&controls=shown');
  });

  test('an eval image, with its own question (no question key) or a typed one', () => {
    const own = edited((s) => (s.image = { source: { kind: 'eval', item: 3 }, question: null }));
    expect(serializeState(own)).toContain('&image=3&sliding-window=');
    expect(parseHash(serializeState(own))).toEqual({ state: own });
    const typed = edited((s) => (s.image = { source: { kind: 'eval', item: 3 }, question: 'how many shapes ?' }));
    expect(serializeState(typed)).toContain('&image=3&question=how+many+shapes+%3F&');
    expect(parseHash(serializeState(typed))).toEqual({ state: typed });
    // An empty question is the user's (the run asks for one), not a request for the item's own.
    const empty = edited((s) => (s.image = { source: { kind: 'eval', item: 0 }, question: '' }));
    expect(parseHash(serializeState(empty))).toEqual({ state: empty });
  });

  test("the sender's own image: the link says so, and carries the question but not the pixels", () => {
    const own = edited((s) => (s.image = { source: { kind: 'uploaded' }, question: null }));
    expect(serializeState(own)).toContain('&image=own&sliding-window=');
    expect(parseHash(serializeState(own))).toEqual({ state: own });
    const asked = edited((s) => (s.image = { source: { kind: 'uploaded' }, question: 'how many stars ?' }));
    expect(serializeState(asked)).toContain('&image=own&question=how+many+stars+%3F&');
    expect(parseHash(serializeState(asked))).toEqual({ state: asked });
  });

  test('a link made before image models (no image key) opens on the first eval image', () => {
    const old = valid.replace('&image=0', '').replace('panels=attention,flops,predictions,survival,image', 'panels=attention,flops,predictions,survival');
    expect(old).not.toContain('image');
    expect(parseHash(old)).toEqual({ state: edited((s) => (s.view.panels.image = false)) });
  });

  test('every registry parameter is in the link', () => {
    for (const t of techniques) for (const p of t.params) expect(valid).toContain(`&${t.id}.${p.key}=`);
  });

  test('hand-edited values are read as numbers', () => {
    const result = parseHash(valid.replace('fastv=off', 'fastv=on').replace('fastv.ratio=0.5', 'fastv.ratio=.25'));
    expect(result).toEqual({ state: edited((s) => (s.techniques['fastv'] = { enabled: true, params: { layer: 1, ratio: 0.25, queries: 'last' } })) });
  });
});

describe('parseHash rejects', () => {
  test('a foreign hash', () => {
    expect(errorOf('#section-2')).toMatch(/not a Sparsity Playground state/);
    expect(errorOf('#eyJ2IjoxfQ')).toMatch(/should start with #v=1&/);
  });

  test('another version', () => {
    expect(errorOf(valid.replace('v=1', 'v=2'))).toMatch(/newer version .*v=2.*reads v=1/);
    expect(errorOf(valid.replace('v=1', 'v=0'))).toMatch(/older version .*v=0/);
    expect(errorOf(valid.replace('v=1', 'v=one'))).toMatch(/unreadable version "one"/);
  });

  test('bad numbers', () => {
    expect(errorOf(valid.replace('fastv.ratio=0.5', 'fastv.ratio=abc'))).toMatch(/"fastv.ratio" should be a number from 0 to 0.95, not "abc"/);
    expect(errorOf(valid.replace('fastv.ratio=0.5', 'fastv.ratio=NaN'))).toMatch(/fastv.ratio/);
    expect(errorOf(valid.replace('fastv.ratio=0.5', 'fastv.ratio=Infinity'))).toMatch(/fastv.ratio/);
    expect(errorOf(valid.replace('fastv.ratio=0.5', 'fastv.ratio='))).toMatch(/fastv.ratio/);
    expect(errorOf(valid.replace('fastv.layer=1', 'fastv.layer=2.5'))).toMatch(/"fastv.layer" should be an integer from 1 to 47/);
    expect(errorOf(valid.replace('layer=0&', 'layer=-1&'))).toMatch(/"layer" should be an integer/);
    expect(errorOf(valid.replace('head=mean', 'head=max'))).toMatch(/"head" should be "mean" or an integer/);
    expect(errorOf(valid.replace('image=0', 'image=two'))).toMatch(/"image" should be an eval item from 0 to 99999, or "own" \(the sender's own image\), not "two"/);
    expect(errorOf(valid.replace('image=0', 'image=-3'))).toMatch(/"image" should be an eval item/);
    expect(errorOf(valid.replace('image=0', 'image=100000'))).toMatch(/"image" should be an eval item/);
    expect(errorOf(valid.replace('image=0', 'image='))).toMatch(/"image" should be an eval item/);
    expect(errorOf(valid.replace('image=0', 'image=OWN'))).toMatch(/"image" should be an eval item/);
  });

  test('out-of-range parameters', () => {
    expect(errorOf(valid.replace('fastv.layer=1', 'fastv.layer=99'))).toMatch(/"fastv.layer" should be an integer from 1 to 47, not "99"/);
    expect(errorOf(valid.replace('attention-dropout.rate=0.1', 'attention-dropout.rate=0.95'))).toMatch(/from 0 to 0.9/);
    expect(errorOf(valid.replace('attention-dropout.samples=8', 'attention-dropout.samples=0'))).toMatch(/samples/);
    expect(errorOf(valid.replace('head=mean', 'head=128'))).toMatch(/"head"/);
  });

  test('a choice outside its options', () => {
    expect(errorOf(valid.replace('fastv.queries=last', 'fastv.queries=first'))).toMatch(/"fastv.queries" should be one of last, all, not "first"/);
    expect(errorOf(valid.replace('fastv=off', 'fastv=yes'))).toMatch(/"fastv" should be one of on, off/);
    expect(errorOf(valid.replace('panels=attention', 'panels=embedding'))).toMatch(/"panels"/);
    expect(errorOf(valid.replace('panels=attention,flops', 'panels=flops,flops'))).toMatch(/each at most once/);
  });

  test('an unknown technique id', () => {
    expect(errorOf(`${valid}&topk=on`)).toMatch(/unknown technique "topk" \(this page knows sliding-window, fastv, attention-dropout\)/);
    expect(errorOf(`${valid}&topk.k=8`)).toMatch(/unknown technique "topk"/);
  });

  test('unknown keys', () => {
    expect(errorOf(`${valid}&theme=dark`)).toMatch(/unknown key "theme"/);
    expect(errorOf(`${valid}&fastv.bogus=1`)).toMatch(/"fastv.bogus" is not a parameter of technique "fastv"/);
  });

  test('a key given twice', () => {
    expect(errorOf(`${valid}&layer=1`)).toMatch(/sets "layer" twice/);
    expect(errorOf(valid.replace('&image=0', '&image=0&image=1'))).toMatch(/sets "image" twice/);
  });

  test('truncated text, wherever it is cut', () => {
    for (let end = 4; end < valid.length; end++) {
      expect(parseHash(valid.slice(0, end)), `cut at ${end}`).toHaveProperty('error');
    }
    expect(errorOf(valid.slice(0, 120))).toMatch(/incomplete \(it may have been cut short\)/);
  });

  test('a model id that is not one path segment', () => {
    expect(errorOf(valid.replace('model=recall-lm', 'model=..%2Fsecret'))).toMatch(/"model" is not usable: "..\/secret" is not a model folder name/);
  });

  test('a hand-edited hub model', () => {
    const model = (spec: string) => errorOf(valid.replace('model=recall-lm', `model=${spec}`));
    expect(model('hub:')).toMatch(/"" is not a hub repository id \(like gpt2 or owner\/name\)/);
    expect(model('hub:a/b/c@main')).toMatch(/"a\/b\/c" is not a hub repository id/);
    expect(model('hub:gpt2@')).toMatch(/"" is not a revision/);
    expect(model('hub:gpt2@..%2Fx')).toMatch(/"..\/x" is not a revision/);
    expect(model('hub:owner--x/gpt2')).toMatch(/not a hub repository id/);
  });

  test('a model from dropped files, which a link cannot carry', () => {
    expect(errorOf(valid.replace('model=recall-lm', 'model=files:my-model'))).toMatch(
      /loaded from files dropped on the page \("my-model"\), which a link cannot carry: drop the same files on the page again/,
    );
  });

  test('a huge prompt', () => {
    const state = edited((s) => (s.prompt = 'x'.repeat(MAX_PROMPT_CHARS + 1)));
    expect(errorOf(serializeState(state))).toMatch(/"prompt" is 4097 characters long; at most 4096/);
    expect(errorOf(`#v=1&prompt=${'%F0%9F%A6%8A'.repeat(20000)}`)).toMatch(/too long/);
    const question = edited((s) => (s.image = { source: { kind: 'eval', item: 0 }, question: '?'.repeat(MAX_PROMPT_CHARS + 1) }));
    expect(errorOf(serializeState(question))).toMatch(/"question" is 4097 characters long; at most 4096/);
  });
});
