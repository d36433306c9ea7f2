import type { StateCreator } from 'zustand';
import { defaultPersistentState } from './persistent';
import type { PlaygroundState } from './types';
import { parseHash } from './urlState';

export interface LinkSlice {
  /** Why the last link could not be read; shown in a banner while the defaults are in place. */
  linkError: string | null;
  /** Applies a location hash: its state, the defaults for an empty hash, or the defaults plus `linkError`. */
  loadLink(hash: string): void;
  dismissLinkError(): void;
}

export const createLinkSlice: StateCreator<PlaygroundState, [], [], LinkSlice> = (set) => ({
  linkError: null,
  loadLink: (hash) => {
    if (hash === '' || hash === '#') {
      set({ ...defaultPersistentState(), linkError: null });
      return;
    }
    const parsed = parseHash(hash);
    if ('error' in parsed) set({ ...defaultPersistentState(), linkError: parsed.error });
    else set({ ...parsed.state, linkError: null });
  },
  dismissLinkError: () => set({ linkError: null }),
});
