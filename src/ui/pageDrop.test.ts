import { describe, expect, test } from 'vitest';
import type { DroppedFile } from '../models/modelSource';
import { dropIntent } from './pageDrop';

const file = (path: string, type = ''): DroppedFile => ({ path, file: new File(['x'], path.slice(path.lastIndexOf('/') + 1), { type }) });
const textModel = { modelName: 'recall-lm', imageSize: null };
const imageModel = { modelName: 'shapes-vit', imageSize: 64 };

describe('a drop on the page', () => {
  test('is a model when it is a folder or has a model file by name, whatever the model on show', () => {
    expect(dropIntent([file('my-model/weights.bin')], imageModel)).toEqual({ kind: 'model' });
    expect(dropIntent([file('model.safetensors')], textModel)).toEqual({ kind: 'model' });
    expect(dropIntent([file('photo.png', 'image/png'), file('config.json')], imageModel)).toEqual({ kind: 'model' });
  });

  test('is the image of an image model', () => {
    const photo = file('photo.png', 'image/png');
    expect(dropIntent([file('notes.txt', 'text/plain'), photo], imageModel)).toEqual({ kind: 'image', file: photo.file });
  });

  test('is refused otherwise, saying what would have worked', () => {
    expect(dropIntent([file('photo.png', 'image/png')], textModel)).toEqual({
      kind: 'refused',
      message:
        'Nothing was loaded: “photo.png” is not a model, and recall-lm reads text, not images. To load another model, drop its folder, or its config.json and model.safetensors together.',
    });
    expect(dropIntent([file('a.txt'), file('b.txt')], imageModel)).toEqual({
      kind: 'refused',
      message:
        'Nothing was loaded: the 2 dropped files are not a model or an image. To run shapes-vit on an image, drop a PNG, JPEG, WebP or GIF; to load another model, drop its folder, or its config.json and model.safetensors together.',
    });
  });
});
