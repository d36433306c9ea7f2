import { expect, test } from '@playwright/test';
import { settled } from './pageReadings';

/** onnxruntime-web's WebAssembly binary, which the dense reference needs and our engine does not (14 of 15.7 MB). */
const ORT_WASM = '**/ort-wasm-simd-threaded*.wasm';

test("a first visit shows our engine's result before onnxruntime-web arrives, and counts its bytes in the progress bar", async ({ page }) => {
  // Each test's browser context starts with empty caches: a first visit. The binary is held back until released.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route(ORT_WASM, async (route) => {
    await released;
    await route.continue();
  });
  await page.goto('/');

  const predictions = page.getByTestId('panel-predictions');
  await expect(predictions.locator('svg')).toHaveAttribute('data-dense', 'pending');
  await expect(page.getByTestId('run-status')).toHaveText('done');
  await expect(page.getByTestId('panel-attention').locator('svg')).toHaveCount(1);
  await expect(predictions.locator('text.kl')).toHaveText('KL(dense ‖ current): waiting for the dense reference…');
  await expect(page.getByTestId('dense-reference')).toHaveCount(0);

  // The model's files are in; the bar still has onnxruntime-web's 14 MB to go.
  const progress = page.getByTestId('model-progress');
  await expect(progress).toContainText('and onnxruntime-web (the dense reference)');
  const bar = progress.locator('progress');
  const [value, max] = await bar.evaluate((node: HTMLProgressElement) => [node.value, node.max]);
  expect(max - value!).toBeGreaterThan(14e6);

  release();
  await settled(page);
  await expect(page.getByTestId('dense-reference')).toContainText('onnxruntime-web wasm');
  await expect(predictions.locator('text.top1')).toHaveAttribute('data-agrees', 'true');
  await expect(progress).toHaveCount(0);
});
