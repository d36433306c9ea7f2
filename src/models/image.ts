/**
 * Images in and out of the engine: the palette-packed images of the bundled eval sets (tools/shapes_data.py's
 * pack_images), images of the user's cut to the model's square input, and pixel_values as Hugging Face image
 * processors make them.
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

/** The part of an image that becomes the model's input: a square, `side` pixels, whose top-left pixel is (x, y). */
export interface SquareCrop {
  x: number;
  y: number;
  side: number;
}

/**
 * The largest square centred in a width × height image. Scaled to the model's `size`, it is what resizing the
 * shorter side to `size` and cropping the centre size × size gives (up to the rounding of the offset), in one
 * resampling instead of two. That is the crop of Hugging Face's processors that crop
 * (CLIP's and BiT's shortest-edge resize, then centre crop): a photo keeps its proportions and loses its edges.
 * ViTImageProcessor stretches any image to size × size instead (DeiT's stretches to 256 × 256, then crops the centre
 * 224 × 224): for a square image that is the same picture as this crop, and for other shapes the crop keeps the
 * objects a classifier looks for undistorted, at the cost of the edges.
 */
export function centerSquareCrop(width: number, height: number): SquareCrop {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ImageDataError(`an image needs a positive whole number of pixels per side, got ${width}×${height}`);
  }
  const side = Math.min(width, height);
  return { x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), side };
}

/**
 * RGB of RGBA pixels as a canvas's getImageData gives them (straight alpha), composited over white: a transparent
 * image shows on the page over white, so that is what the model is shown too (a plain alpha drop would turn
 * transparent pixels into whatever colour they happen to store, often black).
 */
export function rgbaToRgb(rgba: ArrayLike<number>, width: number, height: number): RgbImage {
  const pixels = width * height;
  if (rgba.length !== pixels * 4) throw new ImageDataError(`a ${width}×${height} RGBA image has ${pixels * 4} bytes, got ${rgba.length}`);
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const alpha = rgba[p * 4 + 3]!;
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(255 - ((255 - rgba[p * 4 + c]!) * alpha) / 255);
  }
  return { width, height, rgb };
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
