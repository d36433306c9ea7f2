import { expect, test } from '@playwright/test';
import { settled, survivors } from './pageReadings';

test('a lost GPU device shows a message and a one-click restart that brings the engine back', async ({ page }) => {
  // Keep a handle on every device the page creates, so the test can destroy it as a driver reset would.
  await page.addInitScript(() => {
    const requestDevice = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, descriptor?: GPUDeviceDescriptor) {
      const device = await requestDevice.call(this, descriptor);
      (window as unknown as { __devices: GPUDevice[] }).__devices = [...((window as unknown as { __devices?: GPUDevice[] }).__devices ?? []), device];
      return device;
    };
  });
  await page.goto('/');
  await settled(page);
  await page.evaluate(() => (window as unknown as { __devices: GPUDevice[] }).__devices.forEach((d) => d.destroy()));
  const lost = page.getByTestId('device-lost');
  await expect(lost).toBeVisible();
  await lost.getByRole('button', { name: /restart/i }).click();
  await expect(lost).toHaveCount(0);
  await page.getByTestId('technique-fastv-toggle').check();
  // The new engine may still be starting when FastV is switched on; the run it owes must land once it is ready.
  await expect.poll(async () => {
    const [tokens, afterPruning] = await survivors(page);
    return afterPruning! < tokens!;
  }).toBe(true);
});
