// @vitest-environment jsdom
import { describe, expect, test } from 'vitest';
import { timingBadge } from './timingBadge';
import { serializePanel } from './snapshot.testutil';

describe('timingBadge', () => {
  test('states the measuring method', async () => {
    const gpu = timingBadge({ ms: 1.23456, method: 'timestamp-query' });
    expect(gpu.textContent).toBe('1.23 ms · GPU timestamps');
    const wall = timingBadge({ ms: 12.5, method: 'wall-clock' });
    expect(wall.textContent).toBe('12.5 ms · wall clock');
    expect(wall.title).toMatch(/includes CPU and driver overhead/);
    await expect(serializePanel(wall)).toMatchFileSnapshot('__snapshots__/timing-wall-clock.html');
  });
});
