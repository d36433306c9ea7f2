/**
 * Runs the model for the newest request only. Requests are debounced (typing), only one run is in flight at a time
 * (the GPU would only queue a second one anyway), and a result is dropped when a newer request arrived meanwhile.
 */
export interface RunSchedulerOptions<Request, Output> {
  delayMs: number;
  /** Requests with equal keys are the same run; a repeat of the newest one is ignored. */
  key(request: Request): string;
  execute(request: Request): Promise<Output>;
  /** Called as soon as a new request is accepted, so the UI stops claiming the old result is current. */
  onPending(): void;
  onResult(output: Output): void;
  onError(error: unknown): void;
}

export interface RunScheduler<Request> {
  /**
   * `debounce: false` for a discrete change (a switch, a menu) that no further change is likely to follow at once:
   * it starts as soon as no run is in flight. Typing and slider drags keep the debounce.
   */
  request(request: Request, options?: { debounce: boolean }): void;
  dispose(): void;
}

export function createRunScheduler<Request, Output>(options: RunSchedulerOptions<Request, Output>): RunScheduler<Request> {
  let newestKey: string | null = null;
  // The key is taken when a request arrives: it may depend on the output on show, which changes meanwhile.
  let waiting: { request: Request; key: string } | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight = false;
  let disposed = false;

  function startWaiting(): void {
    if (inFlight || waiting === null || disposed) return;
    const { request, key } = waiting;
    waiting = null;
    inFlight = true;
    options.execute(request).then(
      (output) => finish(key, () => options.onResult(output)),
      (error: unknown) => finish(key, () => options.onError(error)),
    );
  }

  function finish(key: string, deliver: () => void): void {
    inFlight = false;
    if (disposed) return;
    if (key === newestKey) deliver();
    // A debounce that expired while this run was in flight left its request waiting: run it now.
    else if (timer === undefined) startWaiting();
  }

  return {
    request(request, { debounce } = { debounce: true }) {
      const key = options.key(request);
      if (disposed || key === newestKey) return;
      newestKey = key;
      waiting = { request, key };
      options.onPending();
      clearTimeout(timer);
      timer = undefined;
      if (!debounce) return startWaiting();
      timer = setTimeout(() => {
        timer = undefined;
        startWaiting();
      }, options.delayMs);
    },
    dispose() {
      disposed = true;
      clearTimeout(timer);
    },
  };
}
