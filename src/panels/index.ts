export { attentionHeatmap, describeCell, type AttentionMapData, type AttentionHeatmapOptions } from './attentionHeatmap';
export { attentionMapData } from './attentionData';
export { flopsBars, FLOP_PARTS, FLOP_PART_LABELS, type FlopPart, type FlopSplit, type FlopsPanelData } from './flopsBars';
export { predictionsTable, type PredictionBar, type PredictionsPanelData } from './predictionsTable';
export { tokenSurvival, type TokenSurvivalData } from './tokenSurvival';
export { timingBadge } from './timingBadge';
export type { PanelOptions } from './svg';
