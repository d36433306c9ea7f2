import type { StateCreator } from 'zustand';
import { defaultView, MAX_HEADS, MAX_LAYERS, type PanelId, type ViewState } from './persistent';
import type { PlaygroundState } from './types';

export interface ViewSlice {
  view: ViewState;
  setLayer(layer: number): void;
  setHead(head: number | 'mean'): void;
  setPanelVisible(panel: PanelId, visible: boolean): void;
  setControlsHidden(hidden: boolean): void;
}

export const createViewSlice: StateCreator<PlaygroundState, [], [], ViewSlice> = (set) => {
  const update = (change: Partial<ViewState>) => set((state) => ({ view: { ...state.view, ...change } }));
  return {
    view: defaultView(),
    setLayer: (layer) => {
      if (Number.isInteger(layer) && layer >= 0 && layer < MAX_LAYERS) update({ layer });
    },
    setHead: (head) => {
      if (head === 'mean' || (Number.isInteger(head) && head >= 0 && head < MAX_HEADS)) update({ head });
    },
    setPanelVisible: (panel, visible) =>
      set((state) => ({ view: { ...state.view, panels: { ...state.view.panels, [panel]: visible } } })),
    setControlsHidden: (controlsHidden) => update({ controlsHidden }),
  };
};
