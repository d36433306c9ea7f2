import { expect, type Page } from '@playwright/test';

/** Readings of the playground page that several end-to-end tests share. */

/**
 * Waits for the run that the last change started to finish (run-status reads 'running' as soon as state changes),
 * and for its dense reference, which a first visit shows after our engine's result.
 */
export async function settled(page: Page): Promise<void> {
  await expect(page.getByTestId('run-status')).toHaveText('done');
  await expect(page.getByTestId('panel-predictions').locator('svg[data-dense="pending"]')).toHaveCount(0);
}

/** Tokens each layer computed, from the token-survival panel. */
export async function survivors(page: Page): Promise<number[]> {
  const layers = page.getByTestId('panel-survival').locator('g.layer');
  return (await layers.evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-kept')))).map(Number);
}

/** The fraction of dense FLOPs the techniques saved, from the FLOPs panel. */
export async function savedFraction(page: Page): Promise<number> {
  return Number(await page.getByTestId('panel-flops').locator('text.totals').getAttribute('data-saved'));
}

/** The predictions panel's KL(dense ‖ current) line. */
export async function klText(page: Page): Promise<string> {
  return (await page.getByTestId('panel-predictions').locator('text.kl').textContent()) ?? '';
}
