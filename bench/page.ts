/** What both benchmark pages share: their status, table and log elements, and the logger run.mjs relays. */
export const statusEl = document.getElementById('status')!;
export const tableEl = document.getElementById('table')!;
const logEl = document.getElementById('log')!;

export function log(line: string): void {
  const stamped = `[${(performance.now() / 1000).toFixed(1)}s] ${line}`;
  logEl.textContent += `${stamped}\n`;
  // run.mjs relays console lines starting with "[bench] ", so long runs show progress in the terminal.
  console.log(`[bench] ${line}`);
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  return `${error.name}: ${error.message}${cause}`;
}

/** Shows that the run stopped on `error` (with the adapters tried, when no device was found); returns the message. */
export function showFailure(error: unknown): string {
  const tried = (error as { tried?: string[] }).tried;
  const message = `${describeError(error)}${tried ? ` [${tried.join('; ')}]` : ''}`;
  statusEl.textContent = `failed: ${message}`;
  statusEl.className = 'failed';
  log(`FAILED: ${message}`);
  return message;
}
