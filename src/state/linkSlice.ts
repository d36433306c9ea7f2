import type { StateCreator } from 'zustand';
import { defaultImageChoice, defaultPersistentState, type PersistentState } from './persistent';
import type { PlaygroundState } from './types';
import { parseHash } from './urlState';

export interface LinkSlice {
  /** Why the last link could not be read; shown in a banner while the defaults are in place. */
  linkError: string | null;
  /**
   * The last link was made on the sender's own image, which it could not carry: the first eval image stands in, and
   * a note asks for an image until one is chosen.
   */
  linkImageLeftOut: boolean;
  /** Applies a location hash: its state, the defaults for an empty hash, or the defaults plus `linkError`. */
  loadLink(hash: string): void;
  dismissLinkError(): void;
  dismissLinkImageNote(): void;
}

export const createLinkSlice: StateCreator<PlaygroundState, [], [], LinkSlice> = (set) => ({
  linkError: null,
  linkImageLeftOut: false,
  loadLink: (hash) => {
    if (hash === '' || hash === '#') {
      set({ ...fromLink(defaultPersistentState()), linkError: null });
      return;
    }
    const parsed = parseHash(hash);
    if ('error' in parsed) set({ ...fromLink(defaultPersistentState()), linkError: parsed.error });
    else set({ ...fromLink(parsed.state), linkError: null });
  },
  dismissLinkError: () => set({ linkError: null }),
  dismissLinkImageNote: () => set({ linkImageLeftOut: false }),
});

/** The store's state for a link's: the sender's own image, which the link names but cannot carry, becomes the first eval image. */
function fromLink(state: PersistentState): Partial<PlaygroundState> {
  const { image, ...rest } = state;
  const { source, question } = image;
  if (source.kind === 'eval') return { ...rest, image: { source, question }, linkImageLeftOut: false };
  return { ...rest, image: { source: defaultImageChoice().source, question }, linkImageLeftOut: true };
}
