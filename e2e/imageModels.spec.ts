import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { klText, savedFraction, settled, survivors } from './pageReadings';

/** The bundled eval sets, read as the page reads them, so expectations follow the files rather than copies of them. */
function evalSet(model: string): any {
  return JSON.parse(readFileSync(new URL(`../public/models/${model}/eval.json`, import.meta.url), 'utf8'));
}

function imagePanel(page: Page) {
  return page.getByTestId('panel-image').locator('svg').first();
}

test.beforeEach(async ({ page }) => {
  await page.goto('/');
  await settled(page);
});

test('shapes-vqa: an eval image and its question; FastV prunes image patches only, and the answer and FLOPs change', async ({ page }) => {
  const items = evalSet('shapes-vqa').items as { question: string; answer: string }[];
  await page.getByTestId('model-picker').selectOption('bundled:shapes-vqa');
  await settled(page);
  await expect(page.getByTestId('prompt-input')).toHaveCount(0);
  await expect(page.getByTestId('question-input')).toHaveValue(items[0]!.question);

  await page.getByTestId('eval-item-3').click();
  await settled(page);
  await expect(page.getByTestId('question-input')).toHaveValue(items[3]!.question);
  await expect(page.getByTestId('eval-item-text')).toContainText(`→ ${items[3]!.answer}`);
  await expect(page).toHaveURL(/model=shapes-vqa&.*&image=3&/);
  const panel = imagePanel(page);
  await expect(panel).toHaveAttribute('data-patches', '64');
  await expect(panel).toHaveAttribute('data-pruned-patches', '0');
  await expect(page.getByTestId('panel-image')).toContainText(`expected answer: ${items[3]!.answer}`);
  expect(await savedFraction(page)).toBe(0);
  expect(await klText(page)).toMatch(/= 0\.0000 nats/);

  await page.getByTestId('technique-fastv-toggle').check();
  await settled(page);
  const [tokens, ...later] = await survivors(page);
  const questionTokens = tokens! - 64;
  // FastV's defaults (K = 1, R = 0.5) drop half of the 64 image tokens and keep the whole question.
  expect(later).toEqual(later.map(() => questionTokens + 32));
  // Layer 0 still computes every patch; the ones FastV drops after it are outlined.
  await expect(panel).toHaveAttribute('data-pruned-patches', '0');
  await expect(panel).toHaveAttribute('data-dropped-later', '32');
  await page.getByTestId('layer-picker').selectOption('1');
  await settled(page);
  await expect(imagePanel(page)).toHaveAttribute('data-pruned-patches', '32');
  await expect(page.getByTestId('panel-image').locator('.view-computed rect.pruned')).toHaveCount(32);
  expect(await savedFraction(page)).toBeGreaterThan(0.1);
  expect(await klText(page)).not.toMatch(/= 0\.0000 nats/);

  // A typed question travels in the link; one longer than the model takes says so.
  await page.getByTestId('question-input').fill('how many shapes ?');
  await settled(page);
  await expect(page).toHaveURL(/&image=3&question=how\+many\+shapes\+%3F&/);
  const link = page.url();
  await page.getByTestId('question-input').fill('is there a red star or a blue square ?');
  await expect(page.getByTestId('run-error')).toContainText('takes at most 8 after its 64 image tokens');
  await page.goto('about:blank');
  await page.goto(link);
  await settled(page);
  await expect(page.getByTestId('question-input')).toHaveValue('how many shapes ?');
  await expect(imagePanel(page)).toHaveAttribute('data-pruned-patches', '32');
});

test('shapes-vit: an image without text, answered with class labels', async ({ page }) => {
  const data = evalSet('shapes-vit');
  const labels = Object.values(data.id2label as Record<string, string>);
  await page.getByTestId('model-picker').selectOption('bundled:shapes-vit');
  await settled(page);
  await expect(page.getByTestId('prompt-input')).toHaveCount(0);
  await expect(page.getByTestId('question-input')).toHaveCount(0);
  const expected = data.id2label[String(data.items[0].label)] as string;
  await expect(page.getByTestId('eval-item-text')).toHaveText(`class: ${expected}`);

  const predictions = page.getByTestId('panel-predictions');
  await expect(predictions.locator('.panel-title')).toHaveText('Class predictions');
  const shown = await predictions.locator('.row > text:not(.value)').allTextContents();
  expect(shown.sort()).toEqual(labels.map((label) => `'${label}'`).sort());
  await expect(predictions.locator('text.top1')).toHaveAttribute('data-agrees', 'true');
  await expect(page.getByTestId('dense-reference')).toContainText('onnxruntime-web wasm');

  const bars = await page.getByTestId('panel-flops').textContent();
  expect(bars).toContain('patches');
  expect(bars).toContain('classifier');
  await expect(imagePanel(page)).toHaveAttribute('data-patches', '64');
  await expect(page.getByTestId('panel-image')).toContainText(`expected class: ${expected}`);
  await expect(page.getByTestId('panel-image')).toContainText("attention from 'CLS'");

  // Like every panel: it stays in teacher mode and exports as SVG and PNG.
  await page.getByRole('button', { name: /hide controls/i }).click();
  await expect(page.getByTestId('eval-picker')).toHaveCount(0);
  await expect(page.getByTestId('panel-image')).toBeVisible();
  for (const format of ['SVG', 'PNG']) {
    const download = page.waitForEvent('download');
    await page.getByTestId('panel-image').getByRole('button', { name: format }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe(`image-patches-layer0.${format.toLowerCase()}`);
    const bytes = readFileSync(await file.path());
    // The SVG carries its own pixels (drawn once, used by both views); the PNG is that SVG rendered.
    if (format === 'SVG') expect(bytes.toString('utf8')).toContain('<use href="#image-pixels"');
    else expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  }
});
