// Old links must survive the registry growing: this file runs the v=1 fixtures against a registry with one
// technique more, and one parameter more on FastV, as a later version of the playground might have.
import { describe, expect, test, vi } from 'vitest';
import type { Technique } from '../techniques/types';
import { linksV1, openedToday } from './linkFixtures.testutil';
import { parseHash, serializeState } from './urlState';

vi.mock('../techniques/registry', async (importOriginal) => {
  const original = await importOriginal<typeof import('../techniques/registry')>();
  const tokenMerge: Technique = {
    id: 'token-merge',
    label: 'Token merging',
    family: 'token-pruning',
    summary: 'A technique added after the fixtures were made.',
    paper: { title: 'A later paper', authors: 'Someone et al.', venue: 'a later venue', url: 'https://arxiv.org/abs/0000.00000' },
    spec: 'none',
    params: [{ key: 'pairs', label: 'Pairs merged', kind: 'int', min: 0, max: 64, step: 1, default: 8, help: 'A parameter of the new technique.' }],
  };
  const techniques = original.techniques.map((t): Technique =>
    t.id === 'fastv'
      ? { ...t, params: [...t.params, { key: 'warmup', label: 'Warm-up tokens', kind: 'int', min: 0, max: 16, step: 1, default: 0, help: 'A parameter added later.' }] }
      : t,
  );
  techniques.push(tokenMerge);
  return { techniques, techniqueById: (id: string) => techniques.find((t) => t.id === id) };
});

describe('a registry that grew after the links were made', () => {
  test.each(linksV1.map((fixture) => [fixture.name, fixture] as const))('%s: opens, new technique off, new parameter at its default', (_name, fixture) => {
    const result = parseHash(fixture.link);
    if ('error' in result) throw new Error(result.error);
    const today = openedToday(fixture);
    expect(result.state).toEqual(today.state);
    expect(result.state.techniques['token-merge']).toEqual({ enabled: false, params: { pairs: 8 } });
    expect(result.state.techniques['fastv']?.params['warmup']).toBe(0);
    // Only a link with FastV on ran something the new parameter now changes, so only it gets a note.
    const fastvOn = fixture.state.techniques['fastv']?.enabled ?? false;
    expect(today.missing.filter((key) => key.startsWith('fastv.'))).toEqual(fastvOn ? ['fastv.warmup'] : []);
    expect(result.notes).toHaveLength(today.missing.length);
    for (const [index, key] of today.missing.entries()) expect(result.notes[index]).toContain(`"${key}" (the link `);
  });

  test('links written now carry the new technique and parameter, and read back', () => {
    const fixture = linksV1.find((f) => f.state.techniques['fastv']?.enabled);
    if (!fixture) throw new Error('no fixture with FastV on');
    const state = openedToday(fixture).state;
    state.techniques['token-merge'] = { enabled: true, params: { pairs: 3 } };
    const link = serializeState(state);
    expect(link).toContain('&fastv.warmup=0&');
    expect(link).toContain('&token-merge=on&token-merge.pairs=3&');
    expect(parseHash(link)).toEqual({ state, notes: [] });
  });
});
