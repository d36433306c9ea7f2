import { useEffect } from 'react';
import { NoImageChosenError, type RunOutput, type RunRequest } from '../runtime/runner';
import { createRunScheduler } from '../state/runScheduler';
import { isContinuousEdit, playgroundStore, runInputKey, runRequestKey, selectRunRequest, type AnsweredRun } from '../state/store';
import { useRunner } from './runnerContext';

/** Debounce for typing and slider drags before a run starts. */
const RUN_DELAY_MS = 200;

/** Runs the model whenever the state that shapes its output changes; the newest request wins. */
export function useRunLoop(): void {
  const runner = useRunner();
  useEffect(() => {
    if (!runner) return;
    const { runStarted, downloadProgressed, modelReady, runSucceeded, denseReferenceArrived, runFailed, runAwaitsImage } = playgroundStore.getState();
    const failed = (error: unknown) => runFailed(error instanceof Error ? error.message : String(error));
    // The dense reference of an output shown without it; the store ignores it once another output is shown.
    const onDenseReferencePending = (complete: Promise<RunOutput>) => {
      complete.then(denseReferenceArrived, (error: unknown) => {
        if (playgroundStore.getState().run.output?.dense === null) failed(error);
      });
    };
    // What the output on show answers, so that a layer it captured is not asked of the model again.
    let answered: AnsweredRun | null = null;
    let previous: RunRequest | null = null;
    let requestedAt = 0;
    const scheduler = createRunScheduler<RunRequest, { request: RunRequest; output: RunOutput }>({
      delayMs: RUN_DELAY_MS,
      key: (request) => runRequestKey(request, answered),
      execute: async (request) => {
        // User Timing entries split a change's latency in DevTools and in bench/pageTimings.mjs.
        performance.measure('run: debounce + queue', { start: requestedAt });
        return { request, output: await runner.run(request, { onLoadProgress: downloadProgressed, onModelReady: modelReady, onDenseReferencePending }) };
      },
      onPending: () => {
        requestedAt = performance.now();
        runStarted();
      },
      onResult: ({ request, output }) => {
        // Set before the store changes: that change re-requests the current state, so a layer chosen while this run
        // was in flight that it did not capture (a long input) is asked for then.
        answered = { inputKey: runInputKey(request), attentionLayers: output.forward.attention.map((a) => a.layer) };
        performance.mark('run: result');
        runSucceeded(output, request);
      },
      onError: (error) => {
        answered = null;
        // The image picker asks for the image; an error banner would only repeat it.
        if (error instanceof NoImageChosenError) runAwaitsImage();
        else failed(error);
      },
    });
    // Subscribing to the whole store is cheap: the scheduler drops requests equal to the newest one.
    function requestCurrent(): void {
      const request = selectRunRequest(playgroundStore.getState());
      scheduler.request(request, { debounce: isContinuousEdit(previous, request) });
      previous = request;
    }
    requestCurrent();
    const unsubscribe = playgroundStore.subscribe(requestCurrent);
    return () => {
      unsubscribe();
      scheduler.dispose();
    };
  }, [runner]);
}
