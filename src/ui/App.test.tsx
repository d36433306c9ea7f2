// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { WebGpuUnavailableError } from '../engine/gpu';
import type { RunOutput, RunRequest, Runner } from '../runtime/runner';
import { playgroundStore } from '../state/store';
import { App } from './App';
import { CapabilityGate } from './CapabilityGate';

const createRunner = vi.hoisted(() => vi.fn<() => Promise<Runner>>());
vi.mock('../runtime/runner', () => ({ createRunner }));

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** A plausible output for a 6-token prompt on a 2-layer, 2-head model. */
function fakeOutput(request: RunRequest): RunOutput {
  const n = 6;
  const probs = new Float32Array(2 * n * n);
  for (let h = 0; h < 2; h++) for (let q = 0; q < n; q++) for (let k = 0; k <= q; k++) probs[h * n * n + q * n + k] = 1 / (q + 1);
  const positions = Int32Array.from({ length: n }, (_, i) => i);
  return {
    tokenLabels: [...request.prompt.slice(0, n).padEnd(n, '.')],
    forward: {
      plan: { config: { n_layer: 2, n_head: 2 }, dropout: null },
      logits: new Float32Array(4),
      sampleProbs: new Float32Array(4),
      layerPositions: [positions, positions],
      attention: [{ layer: request.view.layer, heads: 2, tokens: n, probs, computedTiles: Uint8Array.from([1, 1]), blockSize: 16, positions }],
      timing: { ms: 1.5, method: 'wall-clock' },
    },
    flops: { layers: [{ label: 'L0', dense: { qkv: 1e6 }, current: { qkv: 1e6 } }], convention: '2 FLOP per MAC' },
    predictions: [{ tokenId: 1, label: 'a', denseProb: 0.5, currentProb: 0.4, currentStd: 0 }],
    klDenseToCurrent: 0.01,
    top1Agrees: true,
    denseReference: { provider: 'onnxruntime-web wasm', ms: 3 },
    adapterDescription: 'fake adapter',
  } as unknown as RunOutput;
}

let container: HTMLDivElement;
let root: Root;
const initial = playgroundStore.getState();

beforeEach(() => {
  vi.useFakeTimers();
  playgroundStore.setState(initial, true);
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
});

afterEach(() => {
  act(() => root.unmount());
  container.remove();
  vi.useRealTimers();
});

const byTestId = (id: string) => container.querySelector(`[data-testid="${id}"]`);

async function mount(): Promise<void> {
  await act(async () => {
    root.render(
      <CapabilityGate>
        <App />
      </CapabilityGate>,
    );
  });
  await act(() => vi.advanceTimersByTimeAsync(250));
}

describe('App', () => {
  test('runs on start and after a change, and fills the panels', async () => {
    const requests: RunRequest[] = [];
    createRunner.mockResolvedValue({
      run: async (request) => (requests.push(request), fakeOutput(request)),
      lost: new Promise(() => {}),
      dispose: () => {},
    });
    await mount();
    expect(byTestId('run-status')?.textContent).toBe('done');
    for (const id of ['panel-attention', 'panel-flops', 'panel-predictions', 'panel-survival']) expect(byTestId(id)?.querySelector('svg')).not.toBeNull();
    expect(byTestId('timing')?.textContent).toBe('1.5 ms · wall clock');
    expect(byTestId('technique-fastv-param-queries')?.tagName).toBe('SELECT');
    expect(byTestId('technique-fastv-param-ratio')?.getAttribute('type')).toBe('number');

    await act(async () => (byTestId('technique-fastv-toggle') as HTMLInputElement).click());
    expect(byTestId('run-status')?.textContent).toBe('running');
    await act(() => vi.advanceTimersByTimeAsync(250));
    expect(byTestId('run-status')?.textContent).toBe('done');
    expect(requests.map((r) => r.active.map((a) => a.id))).toEqual([[], ['fastv']]);

    // The head changes only the view: no new run.
    await act(async () => playgroundStore.getState().setHead(1));
    await act(() => vi.advanceTimersByTimeAsync(250));
    expect(requests).toHaveLength(2);
    expect(byTestId('panel-attention')?.querySelector('.panel-title')?.textContent).toBe('Attention, layer 0, head 1');
  });

  test('without WebGPU it says what was tried and keeps the controls', async () => {
    createRunner.mockRejectedValue(new WebGpuUnavailableError('This browser does not offer WebGPU.', ['navigator.gpu: missing']));
    await mount();
    const gate = byTestId('webgpu-unavailable');
    expect(gate?.textContent).toContain('navigator.gpu: missing');
    expect(gate?.textContent).toContain('--enable-unsafe-webgpu');
    expect(byTestId('prompt-input')).not.toBeNull();
  });

  test('a lost device offers a restart that creates a new runner', async () => {
    let loseDevice: (reason: string) => void = () => {};
    createRunner.mockResolvedValue({
      run: async (request) => fakeOutput(request),
      lost: new Promise((resolve) => (loseDevice = resolve)),
      dispose: () => {},
    });
    await mount();
    await act(async () => loseDevice('The GPU device was lost (unknown)'));
    expect(byTestId('device-lost')?.textContent).toContain('Restart engine');
    createRunner.mockClear();
    createRunner.mockResolvedValue({ run: async (request) => fakeOutput(request), lost: new Promise(() => {}), dispose: () => {} });
    await act(async () => (byTestId('device-lost')?.querySelector('button') as HTMLButtonElement).click());
    expect(createRunner).toHaveBeenCalledTimes(1);
    expect(byTestId('device-lost')).toBeNull();
  });

  test('a bad link shows its error; teacher mode hides the controls', async () => {
    createRunner.mockReturnValue(new Promise(() => {}));
    await act(async () => playgroundStore.getState().loadLink('#v=7'));
    await mount();
    expect(byTestId('url-error')?.textContent).toMatch(/newer version/);
    await act(async () => playgroundStore.getState().setControlsHidden(true));
    expect(byTestId('prompt-input')).toBeNull();
    expect(container.querySelector('.active-summary')?.textContent).toBe('All techniques off: the dense model.');
  });
});
