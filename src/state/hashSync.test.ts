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

  test('a hashchange loads the new link; a bad one leaves the link in place and reports', () => {
    const store = createPlaygroundStore();
    const stop = startHashSync(store);
    window.location.hash = '#v=1&model=x';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    expect(store.getState().linkError).toMatch(/incomplete/);
    vi.advanceTimersByTime(500);
    expect(window.location.hash).toBe('#v=1&model=x');
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
