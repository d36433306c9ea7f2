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
