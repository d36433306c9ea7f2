import { describe, expect, test } from 'vitest';
import type { ImageRunOutput, RunRequest } from '../runtime/runner';
import { fastv } from '../techniques/fastv/fastv';
import { defaultParams } from '../techniques/types';
import { describeRun, describeTechniques } from './describeSettings';

const request: RunRequest = {
  modelSource: { kind: 'bundled', name: 'recall-lm' },
  prompt: 'the cat sat by the river at night. K417; a fox walked to the garden.',
  image: { source: { kind: 'eval', item: 0 }, question: null },
  active: [],
  view: { layer: 0 },
};

describe('settings in the words of the controls', () => {
  test('techniques with their parameters, a choice by its label', () => {
    expect(describeTechniques([])).toBe('all techniques off');
    expect(describeTechniques([{ id: 'fastv', params: { ...defaultParams(fastv), queries: 'all' } }])).toBe(
      'FastV token pruning (Prune at layer K 1, Drop ratio R 0.5, Scored by all queries (FastV paper))',
    );
  });

  test('a run: its model, techniques and input, long text cut', () => {
    expect(describeRun(request, null)).toBe('recall-lm, all techniques off, prompt “the cat sat by the river at night. K417…”');
    const image = { origin: { kind: 'uploaded', name: 'cat.png' }, question: 'how many shapes ?' } as ImageRunOutput;
    expect(describeRun({ ...request, modelSource: { kind: 'bundled', name: 'shapes-vqa' } }, image)).toBe(
      'shapes-vqa, all techniques off, your image “cat.png” asked “how many shapes ?”',
    );
  });
});
