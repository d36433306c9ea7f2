import { useEffect, useState, type ReactNode } from 'react';
import { WebGpuUnavailableError } from '../engine/gpu';
import { createRunner, type Runner } from '../runtime/runner';
import { RunnerContext } from './runnerContext';

type GateState =
  | { kind: 'starting' }
  | { kind: 'ready'; runner: Runner }
  | { kind: 'unavailable'; message: string; tried: string[] }
  | { kind: 'failed'; message: string }
  | { kind: 'lost'; reason: string };

/**
 * Starts the engine and says plainly when it cannot: what was tried and which browsers work. The controls stay
 * usable either way (a shared link still loads and can be read), only the panels need the engine.
 */
export function CapabilityGate({ children }: { children: ReactNode }) {
  const [attempt, setAttempt] = useState(0);
  const [state, setState] = useState<GateState>({ kind: 'starting' });

  useEffect(() => {
    let cancelled = false;
    let runner: Runner | undefined;
    setState({ kind: 'starting' });
    createRunner().then(
      (created) => {
        if (cancelled) return created.dispose();
        runner = created;
        setState({ kind: 'ready', runner: created });
        void created.lost.then((reason) => {
          if (!cancelled) setState({ kind: 'lost', reason });
        });
      },
      (error: unknown) => {
        if (cancelled) return;
        if (error instanceof WebGpuUnavailableError) setState({ kind: 'unavailable', message: error.message, tried: error.tried });
        else setState({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
      },
    );
    return () => {
      cancelled = true;
      runner?.dispose();
    };
  }, [attempt]);

  const restart = () => setAttempt((n) => n + 1);
  return (
    <>
      {state.kind === 'starting' && <p className="gate-note">Starting the WebGPU engine…</p>}
      {state.kind === 'unavailable' && <Unavailable message={state.message} tried={state.tried} />}
      {state.kind === 'failed' && (
        <div className="banner banner-error" role="alert" data-testid="engine-failed">
          <strong>The engine failed to start:</strong> {state.message}{' '}
          <button type="button" onClick={restart}>
            Try again
          </button>
        </div>
      )}
      {state.kind === 'lost' && (
        <div className="banner banner-error" role="alert" data-testid="device-lost">
          <strong>The GPU stopped responding.</strong> {state.reason}. This happens after a driver reset, a GPU switch, or
          when the GPU runs out of memory. Your settings are kept.{' '}
          <button type="button" onClick={restart}>
            Restart engine
          </button>
        </div>
      )}
      <RunnerContext.Provider value={state.kind === 'ready' ? state.runner : null}>{children}</RunnerContext.Provider>
    </>
  );
}

function Unavailable({ message, tried }: { message: string; tried: string[] }) {
  return (
    <section className="banner banner-error" role="alert" data-testid="webgpu-unavailable">
      <h2>WebGPU is not available: {message}</h2>
      <p>What was tried:</p>
      <ol>
        {tried.map((step) => (
          <li key={step}>{step}</li>
        ))}
      </ol>
      <p>This page runs the model on your GPU through WebGPU. It works in:</p>
      <ul>
        <li>Chrome or Edge 113 or newer (Windows, macOS, ChromeOS; Android 121+)</li>
        <li>Safari 26 or newer (macOS, iOS, iPadOS)</li>
        <li>Firefox 141 or newer on Windows</li>
        <li>
          Chromium on Linux started with <code>--enable-unsafe-webgpu</code> (and, if the GPU is blocklisted,{' '}
          <code>--ignore-gpu-blocklist</code>)
        </li>
      </ul>
      <p>If your browser is listed, check that hardware acceleration is on and that the page is served over https or from localhost.</p>
    </section>
  );
}
