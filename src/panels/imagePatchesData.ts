import type { AttentionCapture } from '../engine/result';
import type { RgbImage } from '../models/image';
import type { ImagePatchesData } from './imagePatches';

/** An image model's run as far as the image panel is concerned. */
export interface ImageRun {
  image: RgbImage;
  grid: number;
  /** Patch indices, ascending, that each layer computed (index = layer). */
  patchesPerLayer: readonly Int32Array[];
}

/**
 * The image panel's data at the captured layer: when each patch stops being computed, and the attention the output
 * row (the last computed token: a VLM's last question token, a ViT's CLS) gives each patch, for one head or the
 * mean of heads. Patches are input rows 0…grid²−1, so a position below grid² is a patch.
 */
export function imagePatchesData(run: ImageRun, capture: AttentionCapture, head: number | 'mean', outputRow: string, caption: string): ImagePatchesData {
  const patches = run.grid * run.grid;
  const layers = run.patchesPerLayer.length;
  const droppedAt = new Int32Array(patches).fill(layers);
  // Pruning only removes tokens, so the first layer without a patch is where it was dropped.
  for (let layer = layers - 1; layer >= 0; layer--) {
    const computed = new Set(run.patchesPerLayer[layer]);
    for (let p = 0; p < patches; p++) if (!computed.has(p)) droppedAt[p] = layer;
  }
  const n = capture.tokens;
  const row = n - 1;
  const heads = head === 'mean' ? Array.from({ length: capture.heads }, (_, h) => h) : [head];
  const attention = new Float32Array(patches);
  capture.positions.forEach((position, i) => {
    if (position >= patches) return;
    let sum = 0;
    for (const h of heads) sum += capture.probs[h * n * n + row * n + i] ?? 0;
    attention[position] = sum / heads.length;
  });
  return { image: run.image, grid: run.grid, layers, layer: capture.layer, head, droppedAt, attention, outputRow, caption };
}

/** Where a run's image came from, as far as its caption tells: an eval item (with its question and answer) or a file. */
export interface ImageProvenance {
  origin: { kind: 'eval'; item: number; evalItem: { text: string; answer: string } } | { kind: 'uploaded'; name: string };
  /** The question the VLM was asked; null for a classifier. */
  question: string | null;
}

/**
 * What the image is, under the panel's title: the eval item with its expected answer, or the user's file. The
 * expected answer belongs to the eval item's own question, so it is left out for a typed one, and an uploaded image
 * has none.
 */
export function imageCaption({ origin, question }: ImageProvenance): string {
  if (origin.kind === 'uploaded') return question === null ? `Your image “${origin.name}”` : `Your image “${origin.name}”: “${question}”`;
  const { item, evalItem } = origin;
  if (question === null) return `Eval image ${item} (expected class: ${evalItem.answer})`;
  return `Eval image ${item}: “${question}”${question === evalItem.text ? ` (expected answer: ${evalItem.answer})` : ''}`;
}
