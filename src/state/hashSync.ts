import { selectPersistent, type PlaygroundStore } from './store';
import { serializeState } from './urlState';

/** How long the address bar lags behind the store: typing must not flood the history API. */
export const HASH_WRITE_DELAY_MS = 150;

/**
 * Keeps `window.location.hash` and the store in step: the hash is read once now and again on every `hashchange`
 * (a pasted or edited link), and store changes are written back with `history.replaceState` (no history entry per
 * keystroke, and no `hashchange` echo). A link the page could not apply as it stands (unreadable, or read with
 * notes) is replaced at once by the state actually shown, so the address bar never claims what the page does not
 * show and copying it shares what is on screen; the banners say what was asked.
 */
export function startHashSync(store: PlaygroundStore, win: Window = window): () => void {
  let written = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  const current = () => serializeState(selectPersistent(store.getState()));
  const load = () => {
    const asked = win.location.hash;
    store.getState().loadLink(asked);
    written = current();
    // An empty hash is the defaults already; writing them out would only lengthen the address of a first visit.
    if (asked !== '' && asked !== '#' && asked !== written) win.history.replaceState(win.history.state, '', written);
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
