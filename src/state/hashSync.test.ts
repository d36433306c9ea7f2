// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { startHashSync } from './hashSync';
import { defaultPersistentState } from './persistent';
import { createPlaygroundStore, selectRunRequest } from './store';
import { serializeState } from './urlState';
import { fastv } from '../techniques/fastv/fastv';
import { defaultParams } from '../techniques/types';

describe('hash sync', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    window.history.replaceState(null, '', '/');
  });
  afterEach(() => vi.useRealTimers());

  test('reads the link at start, writes changes back debounced', () => {
    const shared = defaultPersistentState();
    shared.prompt = 'from a teacher';
    window.history.replaceState(null, '', serializeState(shared));
    const store = createPlaygroundStore();
    const stop = startHashSync(store);
    expect(store.getState().prompt).toBe('from a teacher');
    store.getState().setPrompt('edited');
    store.getState().setLayer(2);
    expect(window.location.hash).toContain('prompt=from+a+teacher');
    vi.advanceTimersByTime(150);
    expect(window.location.hash).toContain('prompt=edited');
    expect(window.location.hash).toContain('&layer=2&');
    stop();
  });

  test('a hashchange loads the new link; a bad one is reported and replaced by the state shown', () => {
    const store = createPlaygroundStore();
    const stop = startHashSync(store);
    expect(window.location.hash).toBe('');
    window.location.hash = '#v=1&model=x';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    expect(store.getState().linkError).toMatch(/incomplete/);
    expect(window.location.hash).toBe(serializeState(defaultPersistentState()));
    stop();
  });

  test('a link read with notes is replaced by what was applied', () => {
    const shared = serializeState(defaultPersistentState());
    window.history.replaceState(null, '', shared.replace('&layer=0&', '&layer=0&colour=red&'));
    const store = createPlaygroundStore();
    const stop = startHashSync(store);
    expect(store.getState().settingNotes).toHaveLength(1);
    expect(window.location.hash).toBe(shared);
    stop();
  });

  test('the run request carries only what changes the output', () => {
    const store = createPlaygroundStore();
    store.getState().setTechniqueEnabled('fastv', true);
    store.getState().setHead(1);
    expect(selectRunRequest(store.getState())).toEqual({
      modelSource: { kind: 'bundled', name: 'recall-lm' },
      prompt: defaultPersistentState().prompt,
      image: { source: { kind: 'eval', item: 0 }, question: null },
      active: [{ id: 'fastv', params: defaultParams(fastv) }],
      view: { layer: 0 },
    });
  });
});
