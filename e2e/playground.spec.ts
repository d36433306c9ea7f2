import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { klText, savedFraction, settled, survivors } from './pageReadings';

/** recall-lm's eval set, read from the file the page offers, so expectations follow it rather than a copy. */
const recallLmItems = (JSON.parse(readFileSync(new URL('../public/models/recall-lm/eval.json', import.meta.url), 'utf8')) as { items: { prompt: string; answer: string }[] }).items;

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

test('after a failed run the panels are marked as the last good run, with its settings, and do not export', async ({ page }) => {
  const exportSvg = page.getByTestId('panel-attention').getByRole('button', { name: 'SVG' });
  await expect(exportSvg).toBeEnabled();
  await page.getByTestId('prompt-input').fill('x'.repeat(1100));
  await expect(page.getByTestId('run-error')).toContainText(/at most 1024/);
  const note = page.getByTestId('stale-panels-note');
  await expect(note).toContainText('last good run');
  await expect(note).toContainText('recall-lm, all techniques off, prompt “the cat sat by the river');
  await expect(page.getByTestId('panels')).toHaveClass(/\bstale\b/);
  await expect(exportSvg).toBeDisabled();

  await page.getByTestId('prompt-input').fill('Hello again');
  await settled(page);
  await expect(note).toHaveCount(0);
  await expect(page.getByTestId('panels')).not.toHaveClass(/\bstale\b/);
  await expect(exportSvg).toBeEnabled();
});

test('a broken link is replaced in the address bar by the state the page shows', async ({ page }) => {
  await page.goto('/#v=1&model=tiny-random-gpt2&fastv.layer=99');
  await expect(page.getByTestId('url-error')).toBeVisible();
  await expect(page).toHaveURL(/#v=2&model=recall-lm&prompt=the\+cat.*&controls=shown$/);
});

test('the prompt counter counts tokens against the model\'s limit and says when a paste was cut', async ({ page }) => {
  const count = page.getByTestId('prompt-count');
  // recall-lm reads one token per character.
  await expect(count).toHaveText('168 / 1024 tokens');
  await page.getByTestId('prompt-input').fill('x'.repeat(5000));
  await expect(page.getByTestId('prompt-cut-note')).toHaveText('The text was 5000 characters long; only its first 4096 were kept.');
  await expect(count).toHaveText('4096 / 1024 tokens: 3072 too many for recall-lm; shorten the prompt');
  await page.getByTestId('prompt-input').fill('Hello again');
  await settled(page);
  await expect(page.getByTestId('prompt-cut-note')).toHaveCount(0);
});

test('a newcomer is told what the prompt asks and its expected answer, can pick eval items, and finds the model card', async ({ page }) => {
  await expect(page.getByTestId('prompt-task')).toContainText("asks for the number written after 'M'");
  await expect(page.getByTestId('expected-answer')).toHaveText('Expected answer: 253');
  await expect(page.getByTestId('model-card-link')).toHaveAttribute('href', /\/models\/recall-lm\/README\.md$/);

  await page.getByTestId('prompt-eval-item-input').fill('3');
  await settled(page);
  await expect(page.getByTestId('prompt-input')).toHaveValue(recallLmItems[3]!.prompt);
  await expect(page.getByTestId('expected-answer')).toHaveText(`Expected answer: ${recallLmItems[3]!.answer}`);
  await page.getByRole('button', { name: 'Next eval item' }).click();
  await settled(page);
  await expect(page.getByTestId('prompt-input')).toHaveValue(recallLmItems[4]!.prompt);

  // An edited prompt is the user's own: no expected answer is claimed for it.
  await page.getByTestId('prompt-input').fill('Hello again');
  await settled(page);
  await expect(page.getByTestId('expected-answer')).toHaveCount(0);
});

test('teacher mode hides the controls, shows the input, tokens on the attention axes, and labelled settings', async ({ page }) => {
  const prompt = await page.getByTestId('prompt-input').inputValue();
  await page.getByTestId('technique-fastv-toggle').check();
  await settled(page);
  await page.getByRole('button', { name: /hide controls/i }).click();
  await expect(page.getByTestId('prompt-input')).toHaveCount(0);
  await expect(page).toHaveURL(/controls=hidden/);
  await expect(page.getByTestId('teacher-input')).toContainText(prompt);
  const summary = page.locator('.active-summary');
  await expect(summary).toContainText('FastV token pruning (Prune at layer K 1, Drop ratio R 0.5, Scored by last query (FastV code))');

  // 168 tokens: more than the axes have room for, so every few are labelled, each with its full text on hover.
  const map = page.getByTestId('panel-attention').locator('svg').first();
  await expect(map).toContainText('key token (attended to; 1 in 6 labelled)');
  const firstKey = map.locator('.x-ticks text').first();
  expect(await firstKey.evaluate((label) => label.firstChild?.textContent)).toBe('t');
  await expect(firstKey.locator('title')).toHaveText("position 0: 't'");
  await map.locator('rect[data-q="0"][data-k="0"]').hover();
  await expect(page.getByTestId('attention-hover')).toHaveText(/^queries 0–1 'th' → keys 0–1 'th': max /);
});

test.describe('snapshots at fixed inputs and seeds', () => {
  test('the page with FastV on, as a 1400×1000 window shows it (also the README screenshot)', async ({ page }) => {
    await enable(page, 'fastv');
    await page.getByTestId('layer-picker').selectOption('1');
    await settled(page);
    // Switching FastV on scrolled the controls; back at the top the window shows the input and every main panel.
    // Not a full-page capture: growing the window to the page's height rescales the panels while it is taken.
    await page.evaluate(() => window.scrollTo(0, 0));
    // Measured times differ run to run; everything else on the page is deterministic.
    const times = [page.getByTestId('timing'), page.getByTestId('dense-reference')];
    await expect(page).toHaveScreenshot('page.png', { mask: times, maskColor: '#ffffff' });
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
