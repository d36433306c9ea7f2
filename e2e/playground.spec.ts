import { expect, test, type Page } from '@playwright/test';
import { klText, savedFraction, settled, survivors } from './pageReadings';

/** FastV's default K = 1, R = 0.5: the last token plus half of the others, rounded. */
function fastvDefaultKeep(tokens: number): number {
  return 1 + Math.round((tokens - 1) * 0.5);
}

async function enable(page: Page, technique: string): Promise<void> {
  await page.getByTestId(`technique-${technique}-toggle`).check();
  await settled(page);
}

test.beforeEach(async ({ page }) => {
  await page.goto('/');
  await settled(page);
});

test('the page gets a real WebGPU adapter and runs the model densely', async ({ page }) => {
  const adapter = await page.evaluate(async () => {
    const found = await navigator.gpu?.requestAdapter();
    return found ? `${found.info.vendor} ${found.info.architecture} ${found.info.description}` : null;
  });
  expect(adapter, 'SwiftShader WebGPU adapter').not.toBeNull();
  await expect(page.getByTestId('webgpu-unavailable')).toHaveCount(0);
  expect(await savedFraction(page)).toBe(0);
  expect(await klText(page)).toMatch(/= 0\.0000 nats/);
  await expect(page.getByTestId('panel-predictions').locator('text.top1')).toHaveAttribute('data-agrees', 'true');
  await expect(page.getByTestId('timing')).toContainText(/ms/);
  await expect(page.getByTestId('dense-reference')).toContainText('onnxruntime-web wasm');
});

test('sliding window skips attention tiles and cuts attention FLOPs', async ({ page }) => {
  await page.getByTestId('technique-sliding-window-param-windowTokens').fill('16');
  await page.getByTestId('technique-sliding-window-param-sinkTokens').fill('1');
  await enable(page, 'sliding-window');
  const map = page.getByTestId('panel-attention').locator('svg').first();
  expect(Number(await map.getAttribute('data-skipped-tiles'))).toBeGreaterThan(0);
  expect(await savedFraction(page)).toBeGreaterThan(0);
  expect(await klText(page)).not.toMatch(/= 0\.0000 nats/);
});

test('FastV prunes tokens: later layers compute fewer tokens and FLOPs fall', async ({ page }) => {
  await enable(page, 'fastv');
  const [tokens, ...later] = await survivors(page);
  expect(later.length).toBeGreaterThan(0);
  // K = 1: layer 0 sees every token, every later layer only the survivors.
  expect(later).toEqual(later.map(() => fastvDefaultKeep(tokens!)));
  expect(await savedFraction(page)).toBeGreaterThan(0.1);
  await page.getByTestId('layer-picker').selectOption(String(later.length));
  await settled(page);
  const map = page.getByTestId('panel-attention').locator('svg').first();
  await expect(map).toHaveAttribute('data-pruned-tokens', String(tokens! - fastvDefaultKeep(tokens!)));
});

test('choosing another layer or head redraws the panels without running the model again', async ({ page }) => {
  // Every status the page shows from here on: a run would show 'running', however briefly.
  await page.getByTestId('run-status').evaluate((status) => {
    const seen: string[] = [];
    new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
    (window as unknown as { statusesSeen: string[] }).statusesSeen = seen;
  });
  const map = page.getByTestId('panel-attention').locator('svg').first();
  await page.getByTestId('layer-picker').selectOption('1');
  await expect(map).toHaveAttribute('aria-label', 'Attention, layer 1, mean of heads');
  await page.getByTestId('head-picker').selectOption('3');
  await expect(map).toHaveAttribute('aria-label', 'Attention, layer 1, head 3');
  await page.getByTestId('layer-picker').selectOption('0');
  await expect(map).toHaveAttribute('aria-label', 'Attention, layer 0, head 3');
  expect(await page.evaluate(() => (window as unknown as { statusesSeen: string[] }).statusesSeen)).toEqual([]);
});

test('each panel has a text alternative with its key numbers, a table on request, and buttons named by their panel', async ({ page }) => {
  await enable(page, 'fastv');
  const panel = (name: string) => page.getByTestId(`panel-${name}`);
  await expect(panel('attention').getByRole('img')).toHaveAccessibleDescription(/^Layer 0, mean of heads: \d+ tokens, 0 pruned; \d+ of \d+ causal 16×16 tiles skipped\.$/);
  await expect(panel('predictions').getByRole('img')).toHaveAccessibleDescription(
    /^KL\(dense ‖ current\) = \d\.\d{4} nats; top-1 (agrees with|differs from) the dense model\. Top prediction '.+' at \d+\.\d%\.$/,
  );
  await expect(panel('flops').getByRole('img', { name: 'FLOPs per layer' })).toHaveAccessibleDescription(
    /^Total [\d.,]+ MFLOP now vs [\d.,]+ MFLOP dense \(\d+\.\d% saved\)\.$/,
  );
  await expect(panel('survival').getByRole('img')).toHaveAccessibleDescription(/^(\d+) input tokens; the last layer computes \d+ of them\.$/);

  await panel('flops').getByRole('button', { name: 'Show as table' }).click();
  const table = panel('flops').getByRole('table', { name: 'FLOPs per layer' });
  // A header row, then recall-lm's two layers and its LM head.
  await expect(table.getByRole('row')).toHaveCount(4);
  await expect(table.getByRole('row').nth(1)).toContainText(/^L0/);
  await panel('flops').getByRole('button', { name: 'Hide table' }).click();
  await expect(table).toHaveCount(0);

  for (const title of ['Next-token predictions', 'FLOPs per layer', 'Token survival per layer']) {
    for (const format of ['SVG', 'PNG']) await expect(page.getByRole('button', { name: `Download ${title} as ${format}` })).toHaveCount(1);
  }
  await expect(page.getByRole('button', { name: 'Reset FastV token pruning to defaults' })).toHaveCount(1);
});

test('attention dropout runs seeded Monte-Carlo samples, reproducibly', async ({ page }) => {
  await enable(page, 'attention-dropout');
  const predictions = page.getByTestId('panel-predictions');
  await expect(predictions.locator('text.top1')).toContainText('mean ± std over 8 samples');
  const first = await klText(page);
  expect(first).not.toMatch(/= 0\.0000 nats/);
  await page.getByTestId('technique-attention-dropout-param-seed').fill('99');
  await settled(page);
  const reseeded = await klText(page);
  expect(reseeded).not.toBe(first);
  await page.getByTestId('technique-attention-dropout-param-seed').fill('1234');
  await settled(page);
  expect(await klText(page)).toBe(first);
});

test('the URL reproduces the state, and a broken link says so and falls back to defaults', async ({ page }) => {
  await enable(page, 'fastv');
  const pruned = await survivors(page);
  const link = page.url();
  expect(link).toContain('fastv=on');
  await page.goto('about:blank');
  await page.goto(link);
  await settled(page);
  await expect(page.getByTestId('technique-fastv-toggle')).toBeChecked();
  expect(await survivors(page)).toEqual(pruned);

  await page.goto('/#v=1&model=tiny-random-gpt2&fastv.layer=99');
  await expect(page.getByTestId('url-error')).toBeVisible();
  await settled(page);
  await expect(page.getByTestId('technique-fastv-toggle')).not.toBeChecked();
});

test('a prompt longer than the model takes gives a clear message, and the page recovers', async ({ page }) => {
  await page.getByTestId('prompt-input').fill('x'.repeat(1100));
  await expect(page.getByTestId('run-error')).toContainText(/at most 1024/);
  await page.getByTestId('prompt-input').fill('Hello again');
  await settled(page);
  await expect(page.getByTestId('run-error')).toHaveCount(0);
});

test('teacher mode hides the controls and names the techniques that are on', async ({ page }) => {
  await page.getByTestId('technique-fastv-toggle').check();
  await page.getByRole('button', { name: /hide controls/i }).click();
  await expect(page.getByTestId('prompt-input')).toHaveCount(0);
  await expect(page.locator('.active-summary')).toContainText('FastV');
  await expect(page).toHaveURL(/controls=hidden/);
});

test.describe('snapshots at fixed inputs and seeds', () => {
  test('the whole page with FastV on (also the README screenshot)', async ({ page }) => {
    await enable(page, 'fastv');
    await page.getByTestId('layer-picker').selectOption('1');
    await settled(page);
    // Measured times differ run to run; everything else on the page is deterministic.
    const times = [page.getByTestId('timing'), page.getByTestId('dense-reference')];
    await expect(page).toHaveScreenshot('page.png', { fullPage: true, mask: times, maskColor: '#ffffff' });
  });

  test('every panel with all three techniques on', async ({ page }) => {
    await page.getByTestId('technique-sliding-window-param-windowTokens').fill('32');
    await enable(page, 'sliding-window');
    await enable(page, 'fastv');
    await enable(page, 'attention-dropout');
    await page.getByTestId('layer-picker').selectOption('1');
    await settled(page);
    const masks = [page.getByTestId('dense-reference')];
    for (const panel of ['attention', 'flops', 'predictions', 'survival']) {
      await expect(page.getByTestId(`panel-${panel}`)).toHaveScreenshot(`${panel}.png`, { mask: masks });
    }
  });
});
