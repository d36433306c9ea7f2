import { MODEL_FILES } from '../models/modelFiles';
import type { DroppedFile } from '../models/modelSource';
import { IMAGE_FILE_TYPES } from './imageFile';

/**
 * What a drop on the page asks for. Dropping is easy to do by accident (a file let go over the wrong window), so a
 * drop replaces the working model only when it looks like one: a folder, or a file with a model file's name.
 */
export type DropIntent = { kind: 'model' } | { kind: 'image'; file: File } | { kind: 'refused'; message: string };

/** The model on show when the drop arrives: its name, and the image size it takes (null for a text model). */
export interface DropTarget {
  modelName: string;
  imageSize: number | null;
}

/** config.json, model.safetensors, …, by file name: a dropped folder may nest them, and onnx/model.onnx may come loose. */
const MODEL_FILE_NAMES: ReadonlySet<string> = new Set(Object.values(MODEL_FILES).map((path) => path.slice(path.lastIndexOf('/') + 1)));

const HOW_TO_LOAD = 'drop its folder, or its config.json and model.safetensors together';

export function dropIntent(files: readonly DroppedFile[], target: DropTarget): DropIntent {
  const fromFolder = files.some((f) => f.path.includes('/'));
  if (fromFolder || files.some((f) => MODEL_FILE_NAMES.has(f.path))) return { kind: 'model' };
  const image = files.find((f) => IMAGE_FILE_TYPES.includes(f.file.type));
  if (image && target.imageSize !== null) return { kind: 'image', file: image.file };
  const what = files.length === 1 ? `“${files[0]!.path}” is` : `the ${files.length} dropped files are`;
  if (target.imageSize !== null) {
    return {
      kind: 'refused',
      message: `Nothing was loaded: ${what} not a model or an image. To run ${target.modelName} on an image, drop a PNG, JPEG, WebP or GIF; to load another model, ${HOW_TO_LOAD}.`,
    };
  }
  const readsText = image ? `, and ${target.modelName} reads text, not images` : '';
  return { kind: 'refused', message: `Nothing was loaded: ${what} not a model${readsText}. To load another model, ${HOW_TO_LOAD}.` };
}
