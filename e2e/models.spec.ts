import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { charTokenizerJson } from '../src/models/tokenizer.testutil';
import { loadFromHub, startHubMirror, type HubMirror } from './hubMirror';

/** The default model's files: recall-lm ships a tokenizer next to its weights and ONNX export. */
const MODEL_FILES = /\/models\/recall-lm\/(config\.json|model\.safetensors|onnx\/model\.onnx|tokenizer\.json|tokenizer_config\.json)$/;

async function settled(page: Page): Promise<void> {
  await expect(page.getByTestId('run-status')).toHaveText('done');
}

let mirror: HubMirror;
test.beforeAll(async () => {
  mirror = await startHubMirror();
});
test.afterAll(async () => {
  await mirror.close();
});

test('switching models in the UI: bundled → a hub repository (served locally) → a missing one → bundled again', async ({ page }) => {
  await page.goto('/');
  await settled(page);

  await loadFromHub(page, mirror, 'local/tiny-random-gpt2');
  await settled(page);
  await expect(page).toHaveURL(/model=hub:local\/tiny-random-gpt2@main&/);
  await expect(page.getByTestId('model-picker')).toContainText('local/tiny-random-gpt2@main (Hugging Face hub at http://127.0.0.1:');
  expect(mirror.requests).toEqual(
    expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'onnx/model.onnx'].map((f) => `/local/tiny-random-gpt2/resolve/main/${f}`)),
  );
  // The ONNX export came along, so the dense reference is onnxruntime-web, and it agrees with our engine.
  await expect(page.getByTestId('dense-reference')).toContainText('onnxruntime-web wasm');
  await expect(page.getByTestId('panel-predictions').locator('text.top1')).toHaveAttribute('data-agrees', 'true');

  await loadFromHub(page, mirror, 'local/no-such-model');
  await expect(page.getByTestId('run-error')).toContainText(/no-such-model\/resolve\/main\/config\.json answered HTTP 404\. Check the repository id/);

  await page.getByTestId('model-picker').selectOption('bundled:tiny-random-gpt2');
  await settled(page);
  await expect(page.getByTestId('run-error')).toHaveCount(0);
  await expect(page).toHaveURL(/model=tiny-random-gpt2&/);
});

test('a second visit loads the model files from the Cache API, not the network', async ({ page }) => {
  const modelRequests: string[] = [];
  page.on('request', (request) => {
    if (MODEL_FILES.test(request.url())) modelRequests.push(request.url());
  });
  await page.goto('/');
  await settled(page);
  expect(modelRequests).toHaveLength(5);
  const cached = await page.evaluate(async () => (await (await caches.open('sparsity-playground-models-v1')).keys()).map((r) => r.url));
  expect(cached.some((url) => /\/models\/recall-lm\/model\.safetensors\?sha256=[0-9a-f]{64}$/.test(url))).toBe(true);

  modelRequests.length = 0;
  await page.reload();
  await settled(page);
  expect(modelRequests).toEqual([]);
});

test('model files chosen from this computer load and run with their tokenizer.json; a link cannot carry them', async ({ page }) => {
  await page.goto('/');
  await settled(page);
  await page.getByTestId('model-picker').selectOption('other');
  const file = (name: string) => ({ name, mimeType: 'application/octet-stream', buffer: readFileSync(new URL(`../public/models/tiny-random-gpt2/${name}`, import.meta.url)) });
  // A character-level tokenizer over the same 256 ids: tokenizers.js must read it in the page for the labels below.
  const tokenizer = { name: 'tokenizer.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(charTokenizerJson(256))) };
  await page.getByTestId('model-files').setInputFiles([file('config.json'), file('model.safetensors'), { ...file('onnx/model.onnx'), name: 'model.onnx' }, tokenizer]);
  await settled(page);
  await expect(page.getByTestId('panel-predictions')).toContainText('<filler');
  await expect(page.getByTestId('model-picker')).toContainText('model files — 4 files from this computer');
  await expect(page).toHaveURL(/model=files:model\+files&/);
  await expect(page.getByTestId('model-link-note')).toContainText('a link cannot carry');
  await expect(page.getByTestId('dense-reference')).toContainText('onnxruntime-web wasm');
});

/** Drops files on the element the way a browser does: a DataTransfer whose files the page reads in its drop handler. */
async function dropFiles(page: Page, testId: string, files: { name: string; type: string; text: string }[]): Promise<void> {
  const transfer = await page.evaluateHandle((list) => {
    const data = new DataTransfer();
    for (const { name, type, text } of list) data.items.add(new File([text], name, { type }));
    return data;
  }, files);
  await page.getByTestId(testId).dispatchEvent('dragover', { dataTransfer: transfer });
  await page.getByTestId(testId).dispatchEvent('drop', { dataTransfer: transfer });
}

test('a stray file dropped on a text model is refused with a message and the model stays', async ({ page }) => {
  await page.goto('/');
  await settled(page);
  await dropFiles(page, 'panel-predictions', [{ name: 'holiday.png', type: 'image/png', text: 'not really a png' }]);
  await expect(page.getByTestId('drop-note')).toHaveText(
    'Nothing was loaded: “holiday.png” is not a model, and recall-lm reads text, not images. To load another model, drop its folder, or its config.json and model.safetensors together. Dismiss',
  );
  await expect(page.getByTestId('model-picker')).toHaveValue('bundled:recall-lm');
  await expect(page.getByTestId('run-status')).toHaveText('done');
  await page.getByTestId('drop-note').getByRole('button', { name: 'Dismiss' }).click();
  await expect(page.getByTestId('drop-note')).toHaveCount(0);
});

test('local model files without config.json say what is missing, without the hub\'s advice', async ({ page }) => {
  await page.goto('/');
  await settled(page);
  await page.getByTestId('model-picker').selectOption('other');
  const weights = readFileSync(new URL('../public/models/tiny-random-gpt2/model.safetensors', import.meta.url));
  await page.getByTestId('model-files').setInputFiles([{ name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: weights }]);
  await expect(page.getByTestId('run-error')).toHaveText(
    'The run failed: Could not load model files — 1 file from this computer: config.json is not among them. Choose or drop the model\'s folder, or at least its config.json and model.safetensors together.',
  );
});
