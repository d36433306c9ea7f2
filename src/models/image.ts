/**
 * Images in and out of the engine: the palette-packed images of the bundled eval sets (tools/shapes_data.py's
 * pack_images), and pixel_values as Hugging Face image processors make them.
 */
import type { ImageInput } from './config';

/** An RGB image, row-major, 3 bytes a pixel. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** One image of a `palette-u8` pack: pixel (i, j) = palette[indices[i·width + j]], indices base64 of width·height bytes. */
export interface PaletteImage {
  palette: readonly (readonly number[])[];
  indices: string;
}

export class ImageDataError extends Error {
  override name = 'ImageDataError';
}

export function decodePaletteImage(image: PaletteImage, width: number, height: number): RgbImage {
  const indices = base64Bytes(image.indices);
  if (indices.length !== width * height) throw new ImageDataError(`a ${width}×${height} palette image needs ${width * height} indices, got ${indices.length}`);
  const rgb = new Uint8Array(width * height * 3);
  indices.forEach((index, pixel) => {
    const colour = image.palette[index];
    if (!colour || colour.length !== 3) throw new ImageDataError(`palette index ${index} is outside the palette of ${image.palette.length} colours`);
    rgb.set(colour, pixel * 3);
  });
  return { width, height, rgb };
}

function base64Bytes(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** pixel_values [channels, size, size] = (rgb · rescale − mean) / std, the model's image processor's arithmetic. */
export function pixelValues(image: RgbImage, input: ImageInput): Float32Array {
  if (image.width !== input.size || image.height !== input.size) {
    throw new ImageDataError(`the model takes ${input.size}×${input.size} images, got ${image.width}×${image.height}`);
  }
  const plane = input.size * input.size;
  const out = new Float32Array(input.channels * plane);
  for (let c = 0; c < input.channels; c++) {
    const scale = input.rescale / input.std[c]!;
    const shift = input.mean[c]! / input.std[c]!;
    for (let p = 0; p < plane; p++) out[c * plane + p] = image.rgb[p * 3 + c]! * scale - shift;
  }
  return out;
}
