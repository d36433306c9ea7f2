import { expect, test, type Page } from '@playwright/test';
import { settled } from './pageReadings';

/** A projector (1024 × 768) and a laptop (1400 × 900). */
const SCREENS = [
  { width: 1024, height: 768 },
  { width: 1400, height: 900 },
];

/** Whether the box lies wholly inside the other (1 px of rounding allowed). */
function inside(box: DOMRect, outer: Pick<DOMRect, 'left' | 'top' | 'right' | 'bottom'>): boolean {
  return box.left >= outer.left - 1 && box.top >= outer.top - 1 && box.right <= outer.right + 1 && box.bottom <= outer.bottom + 1;
}

async function boxes(page: Page, panel: string): Promise<{ svg: DOMRect; panel: DOMRect }> {
  return page.getByTestId(`panel-${panel}`).evaluate((section) => ({
    svg: section.querySelector('svg')!.getBoundingClientRect().toJSON() as DOMRect,
    panel: section.getBoundingClientRect().toJSON() as DOMRect,
  }));
}

for (const screen of SCREENS) {
  test(`at ${screen.width} px the header is one line and attention, predictions and FLOPs are all in view, uncut`, async ({ page }) => {
    await page.setViewportSize(screen);
    await page.goto('/');
    await settled(page);
    await page.getByTestId('technique-fastv-toggle').check();
    await settled(page);

    const header = page.locator('.app-header');
    const tops = await header.evaluate((node) => [...node.children].map((child) => Math.round(child.getBoundingClientRect().top)));
    expect(Math.max(...tops) - Math.min(...tops), 'header items on one line').toBeLessThan(20);

    const viewport = { left: 0, top: 0, right: screen.width, bottom: screen.height };
    for (const panel of ['attention', 'predictions', 'flops']) {
      const { svg, panel: section } = await boxes(page, panel);
      expect(inside(svg, section), `${panel}: the panel shows all of its figure`).toBe(true);
      expect(inside(svg, viewport), `${panel}: in view without scrolling`).toBe(true);
    }
  });
}
