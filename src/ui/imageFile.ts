import { centerSquareCrop, rgbaToRgb, type RgbImage } from '../models/image';
import { playgroundStore, selectModelInputs } from '../state/store';

/** The image files the picker takes: the formats every browser with WebGPU decodes. */
export const IMAGE_FILE_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];

/**
 * An image file as the model's size × size input: decoded by the browser (a GIF's first frame, a JPEG turned upright
 * as its EXIF orientation says), its centre square (see centerSquareCrop) scaled to size in one drawImage, read back
 * as RGB. Throws a message fit for the page when the file is not one of IMAGE_FILE_TYPES or does not decode.
 */
export async function decodeImageFile(file: File, size: number): Promise<RgbImage> {
  if (!IMAGE_FILE_TYPES.includes(file.type)) throw new Error(`“${file.name}” is not a PNG, JPEG, WebP or GIF image.`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch (error) {
    throw new Error(`“${file.name}” could not be decoded as an image (${error instanceof Error ? error.message : String(error)}).`, { cause: error });
  }
  try {
    const { x, y, side } = centerSquareCrop(bitmap.width, bitmap.height);
    const context = new OffscreenCanvas(size, size).getContext('2d');
    if (!context) throw new Error('This browser has no 2D canvas to scale the image with.');
    // The default smoothing aliases a large photo scaled down to 224 or 64 pixels; a crop that is already the
    // model's size is copied as is.
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, x, y, side, side, 0, 0, size, size);
    return rgbaToRgb(context.getImageData(0, 0, size, size).data, size, size);
  } finally {
    bitmap.close();
  }
}

/**
 * Makes the file the image the model of `modelKey` runs on, cut to its `imageSize`; throws decodeImageFile's message
 * when the file cannot be read.
 */
export async function chooseImageFile(file: File, modelKey: string, imageSize: number): Promise<void> {
  const image = await decodeImageFile(file, imageSize);
  // Another model may have loaded while the file decoded: this image is cut to the size of the one before.
  if (selectModelInputs(playgroundStore.getState())?.modelKey !== modelKey) return;
  playgroundStore.getState().setUploadedImage(file.name, image);
}
