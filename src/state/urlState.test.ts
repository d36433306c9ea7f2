import { describe, expect, test } from 'vitest';
import { HUB_ENDPOINT } from '../models/modelSource';
import { techniques } from '../techniques/registry';
import { slidingWindow } from '../techniques/slidingWindow/slidingWindow';
import { defaultParams } from '../techniques/types';
import { linksV1, openedToday } from './linkFixtures.testutil';
import { defaultPersistentState, MAX_PROMPT_CHARS, type PersistentState } from './persistent';
import { parseHash, serializeState, URL_VERSION } from './urlState';

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

/** The state a link opens as and its notes; fails the test when the link is refused. */
function opened(hash: string): { state: PersistentState; notes: string[] } {
  const result = parseHash(hash);
  if ('error' in result) throw new Error(`expected ${hash} to open, got: ${result.error}`);
  return result;
}

const valid = serializeState(defaultPersistentState());
const withFastV = serializeState(edited((s) => (s.techniques['fastv'] = { enabled: true, params: { layer: 2, ratio: 0.25, queries: 'all' } })));

describe('serializeState / parseHash round trip (v=2)', () => {
  test('defaults', () => {
    expect(parseHash(valid)).toEqual({ state: defaultPersistentState(), notes: [] });
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
    expect(parseHash(hash)).toEqual({ state, notes: [] });
    expect(parseHash(hash.slice(1))).toEqual({ state, notes: [] });
  });

  test('a prompt of exactly the maximum length', () => {
    const state = edited((s) => (s.prompt = 'é'.repeat(MAX_PROMPT_CHARS)));
    expect(parseHash(serializeState(state))).toEqual({ state, notes: [] });
  });

  test('hub models, with and without a revision', () => {
    const state = edited((s) => (s.modelSource = { kind: 'hub', repo: 'openai-community/gpt2', revision: 'refs/pr/1', endpoint: HUB_ENDPOINT }));
    const hash = serializeState(state);
    expect(hash).toContain('&model=hub:openai-community/gpt2@refs/pr/1&');
    expect(parseHash(hash)).toEqual({ state, notes: [] });
    const bare = parseHash(valid.replace('model=recall-lm', 'model=hub:distilgpt2'));
    expect(bare).toEqual({ state: edited((s) => (s.modelSource = { kind: 'hub', repo: 'distilgpt2', revision: 'main', endpoint: HUB_ENDPOINT })), notes: [] });
  });

  test('an empty prompt and no visible panels', () => {
    const state = edited((s) => {
      s.prompt = '';
      s.view.panels = { attention: false, flops: false, predictions: false, survival: false, image: false };
    });
    expect(parseHash(serializeState(state))).toEqual({ state, notes: [] });
  });

  test('the link stays human-readable and names only the techniques that are on, with all their parameters', () => {
    expect(valid).toMatch(/^#v=2&model=recall-lm&prompt=the\+cat\+sat/);
    expect(valid).toContain('&image=0&layer=0&head=mean&panels=attention,flops,predictions,survival,image&controls=shown');
    for (const t of techniques) expect(valid).not.toContain(`&${t.id}`);
    expect(withFastV).toContain('&image=0&fastv=on&fastv.layer=2&fastv.ratio=0.25&fastv.queries=all&layer=0&');
    const everything = edited((s) => {
      for (const t of techniques) s.techniques[t.id]!.enabled = true;
    });
    for (const t of techniques) for (const p of t.params) expect(serializeState(everything)).toContain(`&${t.id}.${p.key}=`);
  });

  test('a switched-off technique forgets its parameters in the link', () => {
    const off = edited((s) => (s.techniques['fastv'] = { enabled: false, params: { layer: 2, ratio: 0.25, queries: 'all' } }));
    expect(serializeState(off)).toBe(valid);
  });

  test('an eval image, with its own question (no question key) or a typed one', () => {
    const own = edited((s) => (s.image = { source: { kind: 'eval', item: 3 }, question: null }));
    expect(serializeState(own)).toContain('&image=3&layer=');
    expect(parseHash(serializeState(own))).toEqual({ state: own, notes: [] });
    const typed = edited((s) => (s.image = { source: { kind: 'eval', item: 3 }, question: 'how many shapes ?' }));
    expect(serializeState(typed)).toContain('&image=3&question=how+many+shapes+%3F&');
    expect(parseHash(serializeState(typed))).toEqual({ state: typed, notes: [] });
    // An empty question is the user's (the run asks for one), not a request for the item's own.
    const empty = edited((s) => (s.image = { source: { kind: 'eval', item: 0 }, question: '' }));
    expect(parseHash(serializeState(empty))).toEqual({ state: empty, notes: [] });
  });

  test("the sender's own image: the link says so, and carries the question but not the pixels", () => {
    const own = edited((s) => (s.image = { source: { kind: 'uploaded' }, question: null }));
    expect(serializeState(own)).toContain('&image=own&layer=');
    expect(parseHash(serializeState(own))).toEqual({ state: own, notes: [] });
    const asked = edited((s) => (s.image = { source: { kind: 'uploaded' }, question: 'how many stars ?' }));
    expect(serializeState(asked)).toContain('&image=own&question=how+many+stars+%3F&');
    expect(parseHash(serializeState(asked))).toEqual({ state: asked, notes: [] });
  });

  test('hand-edited values are read as numbers', () => {
    expect(opened(withFastV.replace('fastv.ratio=0.25', 'fastv.ratio=.75')).state.techniques['fastv']).toEqual({
      enabled: true,
      params: { layer: 2, ratio: 0.75, queries: 'all' },
    });
  });
});

describe('links made by v=1', () => {
  test.each(linksV1.map((fixture) => [fixture.name, fixture] as const))('%s: opens as it did, with a note for each parameter added since', (_name, fixture) => {
    expect(fixture.link).toMatch(/^#v=1&/);
    const today = openedToday(fixture);
    const result = parseHash(fixture.link);
    if ('error' in result) throw new Error(result.error);
    expect(result.state).toEqual(today.state);
    expect(result.notes).toHaveLength(today.missing.length);
    for (const [index, key] of today.missing.entries()) expect(result.notes[index]).toContain(`"${key}"`);
  });

  test('sliding window links made before its token-exact mask open with whole tiles, as the sender ran it, and say so', () => {
    const fixture = linksV1.find((f) => f.state.techniques['sliding-window']?.enabled);
    if (!fixture) throw new Error('no fixture with the sliding window on');
    const result = parseHash(fixture.link);
    if ('error' in result) throw new Error(result.error);
    expect(result.state.techniques['sliding-window']?.params['granularity']).toBe('block');
    expect(result.notes).toEqual([expect.stringMatching(/"sliding-window.granularity".*now token-exact.*as the sender ran it/)]);
  });

  test('the fixtures cover every technique on, hub and image models, and hidden controls', () => {
    const states = linksV1.map((fixture) => fixture.state);
    // v=1 links were made before SALE and DHSA (and later techniques): they cover every technique that existed then.
    for (const id of ['sliding-window', 'fastv', 'attention-dropout']) expect(states.some((s) => s.techniques[id]?.enabled), id).toBe(true);
    expect(states.some((s) => s.modelSource.kind === 'hub')).toBe(true);
    expect(states.some((s) => s.image.question !== null)).toBe(true);
    expect(states.some((s) => s.image.source.kind === 'uploaded')).toBe(true);
    expect(states.some((s) => s.view.controlsHidden)).toBe(true);
  });

  test('one made before a technique existed (none of its keys) opens with that technique off, without a note', () => {
    const fixture = linksV1.find((f) => f.state.techniques['attention-dropout']?.enabled);
    if (!fixture) throw new Error('no fixture with attention dropout on');
    const before = fixture.link.replace(/&sliding-window[^&]*/g, '');
    expect(before).not.toContain('sliding-window');
    const result = parseHash(before);
    if ('error' in result) throw new Error(result.error);
    expect(result.state.techniques['sliding-window']).toEqual({ enabled: false, params: defaultParams(slidingWindow) });
    const { state: today, missing } = openedToday(fixture);
    expect(result.state).toEqual({ ...today, techniques: { ...today.techniques, 'sliding-window': result.state.techniques['sliding-window'] } });
    expect(result.notes).toHaveLength(missing.filter((key) => !key.startsWith('sliding-window.')).length);
  });

  test('the e2e spec\'s hand-made broken v=1 link is still refused, so it still shows the defaults', () => {
    expect(errorOf('#v=1&model=tiny-random-gpt2&fastv.layer=99')).toMatch(/incomplete \(it may have been cut short\)/);
  });
});

describe('parseHash keeps what it can read and notes the rest', () => {
  test('a parameter the link does not set takes its default; a note says so when its technique is on', () => {
    const { state, notes } = opened(withFastV.replace('&fastv.queries=all', ''));
    expect(state.techniques['fastv']).toEqual({ enabled: true, params: { layer: 2, ratio: 0.25, queries: 'last' } });
    expect(notes).toEqual([
      'The link does not set "fastv.queries" (the link may be older than this parameter); FastV token pruning\'s "Scored by" takes its default, last.',
    ]);
  });

  test('an unknown technique: dropped with a note when on, silently when off', () => {
    const on = opened(`${withFastV}&topk=on&topk.k=8`);
    expect(on.state).toEqual(opened(withFastV).state);
    expect(on.notes).toEqual([`The link switches on "topk", a technique this page does not have (it has ${techniques.map((t) => t.id).join(', ')}); it was left out.`]);
    expect(opened(`${withFastV}&topk=off&topk.k=8`).notes).toEqual([]);
  });

  test('an unknown parameter or key is dropped with a note', () => {
    expect(opened(`${withFastV}&fastv.bogus=1`).notes).toEqual(['"fastv.bogus" is not a parameter of FastV token pruning; it was left out.']);
    expect(opened(`${valid}&theme=dark`).notes).toEqual(['"theme" is not a setting this page knows; it was left out.']);
    expect(opened(`${valid}&topk.k=8`).notes).toEqual(['"topk.k" is not a setting this page knows; it was left out.']);
  });

  test('one bad value is dropped for its default; the rest of the link is kept', () => {
    const link = serializeState(
      edited((s) => {
        s.prompt = 'kept';
        s.techniques['fastv'] = { enabled: true, params: { layer: 2, ratio: 0.25, queries: 'all' } };
        s.view.layer = 3;
      }),
    );
    const { state, notes } = opened(link.replace('fastv.ratio=0.25', 'fastv.ratio=abc'));
    expect(state).toEqual(
      edited((s) => {
        s.prompt = 'kept';
        s.techniques['fastv'] = { enabled: true, params: { layer: 2, ratio: 0.5, queries: 'all' } };
        s.view.layer = 3;
      }),
    );
    expect(notes).toEqual(['"fastv.ratio" should be a number from 0 to 0.95, not "abc"; FastV token pruning\'s "Drop ratio R" takes its default, 0.5.']);
  });

  test.each([
    ['fastv.ratio=0.25', 'fastv.ratio=NaN', /"fastv.ratio" should be a number/],
    ['fastv.ratio=0.25', 'fastv.ratio=Infinity', /"fastv.ratio" should be a number/],
    ['fastv.ratio=0.25', 'fastv.ratio=', /"fastv.ratio" should be a number/],
    ['fastv.layer=2', 'fastv.layer=2.5', /"fastv.layer" should be an integer from 1 to 47, not "2.5"; .* takes its default, 1\./],
    ['fastv.layer=2', 'fastv.layer=99', /"fastv.layer" should be an integer from 1 to 47, not "99"/],
    ['fastv.queries=all', 'fastv.queries=first', /"fastv.queries" should be one of last, all, not "first"/],
    ['fastv=on', 'fastv=yes', /"fastv" should be one of on, off, not "yes"; FastV token pruning stays off\./],
    ['layer=0&', 'layer=-1&', /"layer" should be an integer from 0 to 47, not "-1"; layer 0 is shown instead\./],
    ['head=mean', 'head=max', /"head" should be "mean" or an integer from 0 to 127, not "max"; the mean of heads is shown instead\./],
    ['head=mean', 'head=128', /"head" should be "mean" or an integer/],
    ['image=0', 'image=two', /"image" should be an eval item from 0 to 99999, or "own" \(the sender's own image\), not "two"; the first eval image/],
    ['image=0', 'image=-3', /"image" should be an eval item/],
    ['image=0', 'image=100000', /"image" should be an eval item/],
    ['image=0', 'image=OWN', /"image" should be an eval item/],
    ['controls=shown', 'controls=sh', /"controls" should be one of shown, hidden, not "sh"; the controls are shown\./],
    ['model=recall-lm', 'model=..%2Fsecret', /"model" is not usable: "..\/secret" is not a model folder name.*; the default model, recall-lm, is used instead\./],
    ['model=recall-lm', 'model=hub:a/b/c@main', /"a\/b\/c" is not a hub repository id/],
    ['model=recall-lm', 'model=hub:gpt2@', /"" is not a revision/],
    ['model=recall-lm', 'model=hub:owner--x/gpt2', /not a hub repository id/],
    ['model=recall-lm', 'model=files:my-model', /loaded from files dropped on the page \("my-model"\), which a link cannot carry: drop the same files/],
  ])('%s → %s: a note, and the rest kept', (from, to, note) => {
    const edit = withFastV.replace(from, to);
    expect(edit).not.toBe(withFastV);
    const { state, notes } = opened(edit);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(note);
    // Everything but the bad value is as the link had it (the prompt stands for the rest).
    expect(state.prompt).toBe(defaultPersistentState().prompt);
    if (!from.startsWith('fastv')) expect(state.techniques['fastv']).toEqual({ enabled: true, params: { layer: 2, ratio: 0.25, queries: 'all' } });
  });

  test('unknown panel names are left out; the known ones stay', () => {
    const { state, notes } = opened(valid.replace('panels=attention,flops', 'panels=embedding,flops'));
    expect(state.view.panels).toEqual({ attention: false, flops: true, predictions: true, survival: true, image: true });
    expect(notes).toEqual(['"panels" names "embedding", which this page does not have (it has attention, flops, predictions, survival, image); it was left out.']);
  });

  test('a base key the link does not set takes its default with a note; a missing image or question does not need one', () => {
    const { state, notes } = opened(valid.replace('&layer=0', '').replace('&image=0', ''));
    expect(state).toEqual(defaultPersistentState());
    expect(notes).toEqual(['The link does not set "layer"; layer 0 is shown instead.']);
  });

  test('a key given twice: the first value wins, with a note', () => {
    const { state, notes } = opened(`${valid.replace('&layer=0', '&layer=2')}&layer=1`);
    expect(state.view.layer).toBe(2);
    expect(notes).toEqual(['The link sets "layer" twice; the first value, "2", is used.']);
  });

  test('a link from a newer version is read as far as this page understands it', () => {
    const { state, notes } = opened(`${withFastV.replace('v=2', 'v=3')}&fastv.budget=7`);
    expect(state).toEqual(opened(withFastV).state);
    expect(notes).toEqual([
      'This link was made by a newer version of the playground (v=3); this page read what it knows of it.',
      '"fastv.budget" is not a parameter of FastV token pruning; it was left out.',
    ]);
  });

  test('a huge prompt or question takes the default, with a note', () => {
    const long = edited((s) => {
      s.prompt = 'x'.repeat(MAX_PROMPT_CHARS + 1);
      s.image = { source: { kind: 'eval', item: 0 }, question: '?'.repeat(MAX_PROMPT_CHARS + 1) };
    });
    const { state, notes } = opened(serializeState(long));
    expect(state).toEqual(defaultPersistentState());
    expect(notes).toEqual([
      '"prompt" is 4097 characters long; at most 4096 are allowed; the default prompt is used instead.',
      '"question" is 4097 characters long; at most 4096 are allowed; the eval item\'s own question is used instead.',
    ]);
  });
});

describe('parseHash refuses what is not a readable link', () => {
  test('a foreign hash', () => {
    expect(errorOf('#section-2')).toMatch(/not a Sparsity Playground state/);
    expect(errorOf('#eyJ2IjoxfQ')).toMatch(new RegExp(`should start with #v=${URL_VERSION}&`));
  });

  test('an unreadable version', () => {
    expect(errorOf(valid.replace('v=2', 'v=one'))).toMatch(/unreadable version "one"; this page reads links up to v=2/);
    expect(errorOf(valid.replace('v=2', 'v=0'))).toMatch(/unreadable version "0"/);
  });

  test('a link cut short anywhere before its final key; cut inside that key\'s value, a note', () => {
    const finalKeyEnd = withFastV.indexOf('&controls=') + '&controls'.length;
    for (let end = 1; end < finalKeyEnd; end++) {
      expect(parseHash(withFastV.slice(0, end)), `cut at ${end}`).toHaveProperty('error');
    }
    expect(errorOf(withFastV.slice(0, 120))).toMatch(/incomplete \(it may have been cut short\): it should end with "controls=…"/);
    for (let end = finalKeyEnd; end < withFastV.length; end++) {
      expect(opened(withFastV.slice(0, end)).notes, `cut at ${end}`).toEqual([expect.stringMatching(/^"controls" should be one of shown, hidden/)]);
    }
  });

  test('a hash far too long to be a link', () => {
    expect(errorOf(`#v=2&prompt=${'%F0%9F%A6%8A'.repeat(20000)}`)).toMatch(/too long/);
  });
});
