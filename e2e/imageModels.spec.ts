import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { loadFromHub, startHubMirror } from './hubMirror';
import { klText, savedFraction, settled, survivors } from './pageReadings';

/** The bundled eval sets, read as the page reads them, so expectations follow the files rather than copies of them. */
function evalSet(model: string): any {
  return JSON.parse(readFileSync(new URL(`../public/models/${model}/eval.json`, import.meta.url), 'utf8'));
}

function imagePanel(page: Page) {
  return page.getByTestId('panel-image').locator('svg').first();
}

/**
 * A 96×64 PNG drawn by the page's canvas, in shapes-vit's style: one red square in the centre 64×64, and a blue square
 * in each 16-pixel side margin. Cut to its centre square, as the picker does, it shows one object; stretched to
 * 64×64 instead, it shows three, and shapes-vit counts more than one.
 */
async function shapesPng(page: Page): Promise<Buffer> {
  const dataUrl = await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 96;
    canvas.height = 64;
    const context = canvas.getContext('2d')!;
    context.fillStyle = 'rgb(150, 140, 154)';
    context.fillRect(0, 0, 96, 64);
    context.fillStyle = 'rgb(220, 40, 40)';
    context.fillRect(38, 22, 20, 20);
    context.fillStyle = 'rgb(40, 60, 220)';
    context.fillRect(2, 10, 12, 12);
    context.fillRect(82, 40, 12, 12);
    return canvas.toDataURL('image/png');
  });
  return Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
}

/** The class the predictions panel ranks first. */
async function topClass(page: Page): Promise<string> {
  return (await page.getByTestId('panel-predictions').locator('.row > text:not(.value)').first().textContent()) ?? '';
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

  // Words outside the 37-word vocabulary are named, not silently read as <unk>.
  await page.getByTestId('question-input').fill('how many big birds ?');
  await settled(page);
  await expect(page.getByTestId('question-unknown-words')).toContainText('Not in the model\'s vocabulary: “big”, “birds”.');

  // A typed question travels in the link; one longer than the model takes says so.
  await page.getByTestId('question-input').fill('how many shapes ?');
  await settled(page);
  await expect(page).toHaveURL(/&image=3&question=how\+many\+shapes\+%3F&/);
  await expect(page.getByTestId('question-count')).toContainText("4 / 8 tokens after the image; the answer is the model's next token.");
  await expect(page.getByTestId('question-unknown-words')).toHaveCount(0);
  const link = page.url();
  await page.getByTestId('question-input').fill('is there a red star or a blue square ?');
  await expect(page.getByTestId('run-error')).toContainText('takes at most 8 after its 64 image tokens');
  await expect(page.getByTestId('question-count')).toContainText('10 / 8 tokens after the image: 2 too many for shapes-vqa; shorten the question;');
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
  await expect(page.getByTestId('image-picker')).toHaveCount(0);
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

test("shapes-vit on an image of the user's: cut to its centre square and classified; the link says the image stayed behind", async ({ page }) => {
  await page.getByTestId('model-picker').selectOption('bundled:shapes-vit');
  await settled(page);
  await page.getByTestId('image-file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') });
  await expect(page.getByTestId('image-file-error')).toHaveText('“notes.txt” is not a PNG, JPEG, WebP or GIF image.');
  await page.getByTestId('image-file').setInputFiles({ name: 'three-squares.png', mimeType: 'image/png', buffer: await shapesPng(page) });
  await settled(page);
  await expect(page.getByTestId('image-file-error')).toHaveCount(0);
  await expect(page.getByTestId('uploaded-image-text')).toHaveText('Your image “three-squares.png”, its centre square scaled to 64×64 pixels.');
  // What the model reads, shown by the picker's thumbnail: the centre 64×64 pixel for pixel (the red square's left
  // edge at x = 38 − 16), with no resampling at scale 1.
  const pixel = (x: number, y: number) =>
    page.getByTestId('image-picker').locator('.eval-current canvas').evaluate((canvas: HTMLCanvasElement, [px, py]) => Array.from(canvas.getContext('2d')!.getImageData(px!, py!, 1, 1).data), [x, y]);
  expect(await pixel(22, 22)).toEqual([220, 40, 40, 255]);
  expect(await pixel(21, 22)).toEqual([150, 140, 154, 255]);
  expect(await pixel(0, 12)).toEqual([150, 140, 154, 255]);
  await expect(page.getByTestId('panel-image')).toContainText('Your image “three-squares.png”');
  await expect(page.getByTestId('panel-image')).not.toContainText('expected');
  await expect(imagePanel(page)).toHaveAttribute('data-patches', '64');
  const predictions = page.getByTestId('panel-predictions');
  await expect(predictions.locator('.panel-title')).toHaveText('Class predictions');
  // The side squares were cut away with the margins: the model counts the one in the middle.
  expect(await topClass(page)).toBe("'one'");
  await expect(predictions.locator('text.top1')).toHaveAttribute('data-agrees', 'true');
  await expect(page.getByTestId('dense-reference')).toContainText('onnxruntime-web wasm');

  // The link names the image as the sender's own; whoever opens it gets the first eval image and a note.
  await expect(page.getByTestId('image-link-note')).toContainText('Your own image is not in this page');
  await expect(page).toHaveURL(/model=shapes-vit&.*&image=own&/);
  const link = page.url();
  await page.goto('about:blank');
  await page.goto(link);
  await settled(page);
  await expect(page.getByTestId('link-image-note')).toContainText("made on the sender's own image, which a link cannot carry, so the first eval image is shown instead");
  await expect(page.getByTestId('image-link-note')).toHaveCount(0);
  await expect(page.getByTestId('eval-item-input')).toHaveValue('0');
  await expect(page.getByTestId('run-error')).toHaveCount(0);
  await page.getByTestId('eval-item-2').click();
  await settled(page);
  await expect(page.getByTestId('link-image-note')).toHaveCount(0);
  await expect(page).toHaveURL(/&image=2&/);
});

test('a ViT from the hub without eval.json asks for an image instead of failing, and runs on one dropped on the picker', async ({ page }) => {
  const mirror = await startHubMirror({ withoutFiles: ['eval.json'] });
  try {
    await loadFromHub(page, mirror, 'local/shapes-vit');
    await expect(page.getByTestId('image-upload-prompt')).toContainText('This model has no eval images to run on');
    expect(mirror.requests).toContain('/local/shapes-vit/resolve/main/eval.json');
    await expect(page.getByTestId('run-status')).toHaveText('idle');
    await expect(page.getByTestId('run-error')).toHaveCount(0);
    await expect(page.getByTestId('panel-predictions')).toContainText('Waiting for the first run');

    const png = await shapesPng(page);
    const dropped = await page.evaluateHandle((base64) => {
      const transfer = new DataTransfer();
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      return transfer;
    }, png.toString('base64'));
    await page.getByTestId('image-picker').dispatchEvent('dragover', { dataTransfer: dropped });
    await page.getByTestId('image-picker').dispatchEvent('drop', { dataTransfer: dropped });
    await settled(page);
    await expect(page.getByTestId('uploaded-image-text')).toContainText('Your image “dropped.png”');
    // The drop was the picker's: the model stayed the hub's.
    await expect(page).toHaveURL(/model=hub:local\/shapes-vit@main&.*&image=own&/);
    await expect(page.getByTestId('panel-predictions').locator('.panel-title')).toHaveText('Class predictions');
    expect(await topClass(page)).toBe("'one'");
    await expect(page.getByTestId('panel-image')).toContainText('Your image “dropped.png”');
  } finally {
    await mirror.close();
  }
});

test('an image dropped anywhere on an image model becomes its image; another file gets a message and the model stays', async ({ page }) => {
  await page.getByTestId('model-picker').selectOption('bundled:shapes-vit');
  await settled(page);
  const drop = async (testId: string, file: { name: string; type: string; base64: string }) => {
    const transfer = await page.evaluateHandle(({ name, type, base64 }) => {
      const data = new DataTransfer();
      data.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], name, { type }));
      return data;
    }, file);
    await page.getByTestId(testId).dispatchEvent('dragover', { dataTransfer: transfer });
    await page.getByTestId(testId).dispatchEvent('drop', { dataTransfer: transfer });
  };
  await drop('panel-image', { name: 'three-squares.png', type: 'image/png', base64: (await shapesPng(page)).toString('base64') });
  await settled(page);
  await expect(page.getByTestId('uploaded-image-text')).toContainText('Your image “three-squares.png”');
  await expect(page).toHaveURL(/model=shapes-vit&.*&image=own&/);
  expect(await topClass(page)).toBe("'one'");

  await drop('panel-flops', { name: 'notes.txt', type: 'text/plain', base64: Buffer.from('hello').toString('base64') });
  await expect(page.getByTestId('drop-note')).toContainText(
    'Nothing was loaded: “notes.txt” is not a model or an image. To run shapes-vit on an image, drop a PNG, JPEG, WebP or GIF; to load another model, drop its folder',
  );
  await expect(page.getByTestId('model-picker')).toHaveValue('bundled:shapes-vit');
  await expect(page.getByTestId('run-error')).toHaveCount(0);
  await expect(page.getByTestId('uploaded-image-text')).toContainText('three-squares.png');
});
