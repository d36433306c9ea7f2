import { readFileSync } from 'node:fs';
import { parseModelConfig, readsPreprocessorConfig, type TransformerConfig } from './config';
import { weightsFromSafetensors, type TransformerWeights } from './modelWeights';
import { parseSafetensors } from './safetensors';

export interface BundledModelFiles {
  folder: string;
  config: TransformerConfig;
  weights: TransformerWeights;
  /** Another JSON file of the model's folder (eval.json, training.json…). */
  readJson: (file: string) => unknown;
}

/** A model of public/models read from disk as the loader reads it in the page, for the Node test tiers and the headless CLI. */
export function readBundledModel(name: string, modelsDir = 'public/models'): BundledModelFiles {
  const folder = `${modelsDir}/${name}`;
  const readJson = (file: string): unknown => JSON.parse(readFileSync(`${folder}/${file}`, 'utf8'));
  const raw = readJson('config.json');
  const config = parseModelConfig(raw, readsPreprocessorConfig(raw) ? readJson('preprocessor_config.json') : undefined);
  const bytes = readFileSync(`${folder}/model.safetensors`);
  const weights = weightsFromSafetensors(parseSafetensors(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), config);
  return { folder, config, weights, readJson };
}
