import type { StateCreator } from 'zustand';
import { fittedToModel } from './loadedModel';
import { defaultImageChoice, defaultPersistentState, type PersistentState } from './persistent';
import type { PlaygroundState } from './types';
import { parseHash } from './urlState';

export interface LinkSlice {
  /** Why the last link could not be read at all; shown in a banner while the defaults are in place. */
  linkError: string | null;
  /**
   * What the page applied differently from what was asked, one sentence each: a link's values it could not read or
   * no longer has (see urlState.ts), and settings past the loaded model, fitted to it (see loadedModel.ts). Shown in
   * one banner until dismissed or the next link.
   */
  settingNotes: readonly string[];
  /**
   * The last link was made on the sender's own image, which it could not carry: the first eval image stands in, and
   * a note asks for an image until one is chosen.
   */
  linkImageLeftOut: boolean;
  /**
   * Applies a location hash: the defaults for an empty hash; the defaults plus `linkError` for one that is not a
   * readable link; otherwise its state, with `settingNotes` for what it could not apply as asked.
   */
  loadLink(hash: string): void;
  dismissLinkError(): void;
  dismissSettingNotes(): void;
  dismissLinkImageNote(): void;
}

export const createLinkSlice: StateCreator<PlaygroundState, [], [], LinkSlice> = (set) => ({
  linkError: null,
  settingNotes: [],
  linkImageLeftOut: false,
  loadLink: (hash) => {
    if (hash === '' || hash === '#') {
      set({ ...fromLink(defaultPersistentState()), linkError: null, settingNotes: [] });
      return;
    }
    const parsed = parseHash(hash);
    if ('error' in parsed) {
      set({ ...fromLink(defaultPersistentState()), linkError: parsed.error, settingNotes: [] });
      return;
    }
    // A link to the model already loaded is fitted to it now; any other waits for its model (modelReady).
    set((state) => {
      const linked = { ...fromLink(parsed.state), linkError: null, settingNotes: parsed.notes };
      return { ...linked, ...fittedToModel({ ...state, ...linked }) };
    });
  },
  dismissLinkError: () => set({ linkError: null }),
  dismissSettingNotes: () => set({ settingNotes: [] }),
  dismissLinkImageNote: () => set({ linkImageLeftOut: false }),
});

/** The store's state for a link's: the sender's own image, which the link names but cannot carry, becomes the first eval image. */
function fromLink(state: PersistentState): Pick<PlaygroundState, keyof PersistentState | 'linkImageLeftOut'> {
  const { image, ...rest } = state;
  const { source, question } = image;
  if (source.kind === 'eval') return { ...rest, image: { source, question }, linkImageLeftOut: false };
  return { ...rest, image: { source: defaultImageChoice().source, question }, linkImageLeftOut: true };
}
