import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { createRunScheduler } from './runScheduler';

interface Pending {
  request: string;
  resolve(output: string): void;
  reject(error: Error): void;
}

function harness(key: (request: string) => string = (request) => request) {
  const runs: Pending[] = [];
  const events: string[] = [];
  const scheduler = createRunScheduler<string, string>({
    delayMs: 200,
    key,
    execute: (request) =>
      new Promise<string>((resolve, reject) => {
        runs.push({ request, resolve, reject });
      }),
    onPending: () => events.push('pending'),
    onResult: (output) => events.push(`result ${output}`),
    onError: (error) => events.push(`error ${(error as Error).message}`),
  });
  return { scheduler, runs, events };
}

describe('run scheduler', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  test('debounces typing into one run', async () => {
    const { scheduler, runs, events } = harness();
    scheduler.request('T');
    await vi.advanceTimersByTimeAsync(100);
    scheduler.request('Th');
    await vi.advanceTimersByTimeAsync(100);
    scheduler.request('The');
    await vi.advanceTimersByTimeAsync(199);
    expect(runs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs.map((r) => r.request)).toEqual(['The']);
    runs[0]?.resolve('out');
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(['pending', 'pending', 'pending', 'result out']);
  });

  test('drops a stale result and runs the newest request after it', async () => {
    const { scheduler, runs, events } = harness();
    scheduler.request('a');
    await vi.advanceTimersByTimeAsync(200);
    scheduler.request('b');
    await vi.advanceTimersByTimeAsync(200);
    expect(runs).toHaveLength(1);
    runs[0]?.resolve('A');
    await vi.advanceTimersByTimeAsync(0);
    expect(runs.map((r) => r.request)).toEqual(['a', 'b']);
    runs[1]?.resolve('B');
    await vi.advanceTimersByTimeAsync(0);
    expect(events.filter((e) => e !== 'pending')).toEqual(['result B']);
  });

  test('a stale run finishing during the debounce waits for the debounce', async () => {
    const { scheduler, runs } = harness();
    scheduler.request('a');
    await vi.advanceTimersByTimeAsync(200);
    scheduler.request('b');
    runs[0]?.resolve('A');
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(runs.map((r) => r.request)).toEqual(['a', 'b']);
  });

  test('ignores a repeat of the newest request, reports errors, stops after dispose', async () => {
    const { scheduler, runs, events } = harness();
    scheduler.request('a');
    scheduler.request('a');
    await vi.advanceTimersByTimeAsync(200);
    runs[0]?.reject(new Error('lost'));
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(['pending', 'error lost']);
    scheduler.request('b');
    scheduler.dispose();
    await vi.advanceTimersByTimeAsync(500);
    expect(runs).toHaveLength(1);
  });

  test('keys a request when it arrives, so a key that changes meanwhile does not drop its result', async () => {
    let suffix = '';
    const { scheduler, runs, events } = harness((request) => request + suffix);
    scheduler.request('a');
    suffix = ' (answered)';
    await vi.advanceTimersByTimeAsync(200);
    runs[0]?.resolve('A');
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(['pending', 'result A']);
  });

  test('a discrete change starts at once, or as soon as the run in flight is done', async () => {
    const { scheduler, runs, events } = harness();
    scheduler.request('switch on', { debounce: false });
    expect(runs.map((r) => r.request)).toEqual(['switch on']);
    scheduler.request('switch off', { debounce: false });
    expect(runs).toHaveLength(1);
    runs[0]?.resolve('on');
    await vi.advanceTimersByTimeAsync(0);
    expect(runs.map((r) => r.request)).toEqual(['switch on', 'switch off']);
    runs[1]?.resolve('off');
    await vi.advanceTimersByTimeAsync(0);
    expect(events.filter((e) => e !== 'pending')).toEqual(['result off']);
  });
});
