import { selectPersistent, type PlaygroundStore } from './store';
import { serializeState } from './urlState';

/** How long the address bar lags behind the store: typing must not flood the history API. */
export const HASH_WRITE_DELAY_MS = 150;

/**
 * Keeps `window.location.hash` and the store in step: the hash is read once now and again on every `hashchange`
 * (a pasted or edited link), and store changes are written back with `history.replaceState` (no history entry per
 * keystroke, and no `hashchange` echo). A link that failed to parse stays in the address bar until the user
 * changes something, so it can be corrected by hand.
 */
export function startHashSync(store: PlaygroundStore, win: Window = window): () => void {
  let written = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  const current = () => serializeState(selectPersistent(store.getState()));
  const load = () => {
    store.getState().loadLink(win.location.hash);
    written = current();
  };
  const write = () => {
    timer = undefined;
    const hash = current();
    if (hash === written) return;
    written = hash;
    win.history.replaceState(win.history.state, '', hash);
  };
  load();
  const unsubscribe = store.subscribe(() => {
    clearTimeout(timer);
    timer = setTimeout(write, HASH_WRITE_DELAY_MS);
  });
  win.addEventListener('hashchange', load);
  return () => {
    unsubscribe();
    clearTimeout(timer);
    win.removeEventListener('hashchange', load);
  };
}
