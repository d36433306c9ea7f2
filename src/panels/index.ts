export { attentionHeatmap, describeCell, type AttentionMapData, type AttentionHeatmapOptions } from './attentionHeatmap';
export { attentionMapData } from './attentionData';
export { flopsBars, FLOP_PARTS, FLOP_PART_LABELS, type FlopPart, type FlopSplit, type FlopsPanelData } from './flopsBars';
export { imagePatches, type ImagePatchesData, type ImagePatchesOptions } from './imagePatches';
export { imageCaption, imagePatchesData, type ImageRun } from './imagePatchesData';
export { predictionsTable, type PredictionBar, type PredictionsPanelData, type PredictionsTableOptions } from './predictionsTable';
export { tokenSurvival, type TokenSurvivalData } from './tokenSurvival';
export { timingBadge } from './timingBadge';
export type { PanelOptions } from './svg';
