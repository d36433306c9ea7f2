import type { ModelSlice } from './modelSlice';
import type { InputSlice } from './inputSlice';
import type { TechniquesSlice } from './techniquesSlice';
import type { ViewSlice } from './viewSlice';
import type { RunSlice } from './runSlice';
import type { LinkSlice } from './linkSlice';

/** The whole store: every slice's state and actions side by side (zustand slices pattern). */
export type PlaygroundState = ModelSlice & InputSlice & TechniquesSlice & ViewSlice & RunSlice & LinkSlice;
