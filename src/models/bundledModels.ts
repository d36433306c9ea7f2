/** Models shipped in public/models/ (listed with hashes in public/models/manifest.json). The first one is the default. */
export interface BundledModel {
  id: string;
  label: string;
}

export const bundledModels: readonly BundledModel[] = [
  { id: 'recall-lm', label: 'recall-lm — trained GPT-2, 2 layers, needle-in-a-haystack recall, copy and sort' },
  { id: 'tiny-random-gpt2', label: 'tiny-random-gpt2 — 4 layers, 4 heads, d=64, byte vocabulary, random weights' },
  { id: 'shapes-vit', label: 'shapes-vit — ViT, 4 layers, 64 patches + CLS: counts the shapes in an image (one, two, three)' },
  { id: 'shapes-vqa', label: 'shapes-vqa — LLaVA-style VLM, 4 layers: 64 image patches, then a question about them' },
];
