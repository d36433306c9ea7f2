import { describe, expect, it } from 'vitest';
import { centerSquareCrop, ImageDataError, pixelValues, rgbaToRgb } from './image';

describe('the square an image of the user is cut to', () => {
  it('is the centred square on the shorter side', () => {
    expect(centerSquareCrop(96, 64)).toEqual({ x: 16, y: 0, side: 64 });
    expect(centerSquareCrop(480, 640)).toEqual({ x: 0, y: 80, side: 480 });
    expect(centerSquareCrop(224, 224)).toEqual({ x: 0, y: 0, side: 224 });
  });

  it('rounds an odd margin down, leaving the extra pixel on the right or bottom', () => {
    expect(centerSquareCrop(5, 2)).toEqual({ x: 1, y: 0, side: 2 });
    expect(centerSquareCrop(1, 4)).toEqual({ x: 0, y: 1, side: 1 });
  });

  it('refuses an image without pixels', () => {
    expect(() => centerSquareCrop(0, 10)).toThrow(ImageDataError);
    expect(() => centerSquareCrop(10.5, 10)).toThrow(/positive whole number of pixels per side, got 10.5×10/);
  });
});

describe('RGBA pixels to the RGB the model reads', () => {
  it('drops an opaque alpha', () => {
    const rgba = Uint8ClampedArray.from([10, 20, 30, 255, 200, 100, 0, 255]);
    expect(rgbaToRgb(rgba, 2, 1)).toEqual({ width: 2, height: 1, rgb: Uint8Array.from([10, 20, 30, 200, 100, 0]) });
  });

  it('shows transparent pixels over white, as the page does', () => {
    const rgba = Uint8ClampedArray.from([0, 0, 0, 0, 0, 0, 0, 128, 255, 0, 100, 51]);
    expect(Array.from(rgbaToRgb(rgba, 1, 3).rgb)).toEqual([255, 255, 255, 127, 127, 127, 255, 204, 224]);
  });

  it('refuses a buffer of the wrong size', () => {
    expect(() => rgbaToRgb(new Uint8ClampedArray(12), 2, 2)).toThrow(/a 2×2 RGBA image has 16 bytes, got 12/);
  });

  it('gives the image pixelValues normalises', () => {
    const image = rgbaToRgb(Uint8ClampedArray.from([255, 0, 51, 255]), 1, 1);
    const input = { size: 1, patch: 1, grid: 1, channels: 3, rescale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], cls: true };
    expect(Array.from(pixelValues(image, input))).toEqual([1, -1, expect.closeTo(-0.6, 6)]);
  });
});
