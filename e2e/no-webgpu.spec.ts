import { expect, test } from '@playwright/test';

/** Chromium without the WebGPU flags: headless, it exposes navigator.gpu but hands out no adapter. */
test.use({
  launchOptions: {
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu'],
  },
});

test('the page says plainly what was tried and which browsers work, and the controls stay usable', async ({ page }) => {
  await page.goto('/');
  const gate = page.getByTestId('webgpu-unavailable');
  await expect(gate).toBeVisible();
  await expect(gate).toContainText('requestAdapter');
  await expect(gate).toContainText(/Chrome/);
  await page.getByTestId('technique-fastv-toggle').check();
  await expect(page).toHaveURL(/fastv=on/);
});
