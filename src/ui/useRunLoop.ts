import { useEffect } from 'react';
import { NoImageChosenError, type RunOutput, type RunRequest } from '../runtime/runner';
import { createRunScheduler } from '../state/runScheduler';
import { playgroundStore, runRequestKey, selectRunRequest } from '../state/store';
import { useRunner } from './runnerContext';

/** Debounce for typing and slider drags before a run starts. */
const RUN_DELAY_MS = 200;

/** Runs the model whenever the state that shapes its output changes; the newest request wins. */
export function useRunLoop(): void {
  const runner = useRunner();
  useEffect(() => {
    if (!runner) return;
    const { runStarted, modelLoadProgressed, modelReady, runSucceeded, runFailed, runAwaitsImage } = playgroundStore.getState();
    const scheduler = createRunScheduler<RunRequest, { output: RunOutput; request: RunRequest }>({
      delayMs: RUN_DELAY_MS,
      key: runRequestKey,
      execute: async (request) => ({ output: await runner.run(request, { onLoadProgress: modelLoadProgressed, onModelReady: modelReady }), request }),
      onPending: runStarted,
      onResult: ({ output, request }) => runSucceeded(output, request),
      onError: (error) => {
        // The image picker asks for the image; an error banner would only repeat it.
        if (error instanceof NoImageChosenError) runAwaitsImage();
        else runFailed(error instanceof Error ? error.message : String(error));
      },
    });
    // Subscribing to the whole store is cheap: the scheduler drops requests equal to the newest one.
    const request = () => scheduler.request(selectRunRequest(playgroundStore.getState()));
    request();
    const unsubscribe = playgroundStore.subscribe(request);
    return () => {
      unsubscribe();
      scheduler.dispose();
    };
  }, [runner]);
}
