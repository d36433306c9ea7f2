import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../engine/gpuContext';
import { TransformerEngine } from '../engine/transformerEngine';
import { nodeDevice } from '../engine/nodeDevice';
import { parseModelConfig } from '../models/config';
import { weightsFromSafetensors } from '../models/modelWeights';
import { parseSafetensors } from '../models/safetensors';
import { createTokenizer } from '../models/tokenizer';
import type { EvalReport } from './evalReport';
import { evaluateLm, type LmEvalItem } from './lmHarness';

const folder = process.env['RECALL_LM_DIR'] ?? 'public/models/recall-lm';
const readJson = (file: string): unknown => JSON.parse(readFileSync(`${folder}/${file}`, 'utf8'));

/** The model card's numbers, measured in PyTorch by tools/train_recall_lm.py on the same eval.json. */
interface CardAccuracy {
  needle_by_length: Record<string, number>;
  copy: number;
  sort: number;
}

let engine: TransformerEngine;
let report: EvalReport;
const card = (readJson('training.json') as { final_eval: CardAccuracy }).final_eval;

beforeAll(async () => {
  const config = parseModelConfig(readJson('config.json'));
  const bytes = readFileSync(`${folder}/model.safetensors`);
  const weights = weightsFromSafetensors(parseSafetensors(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), config);
  engine = new TransformerEngine(new GpuContext(await nodeDevice()), config, weights);
  const tokenizer = createTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'), config.vocab_size);
  const items = (readJson('eval.json') as { items: LmEvalItem[] }).items;
  report = await evaluateLm(engine, items, { encode: tokenizer.encode, active: [] });
}, 600_000);
afterAll(() => engine.destroy());

/** One item is one point at 100 items per length: a float-rounding flip near a tie may cost one. */
const ONE_POINT = 0.0101;

function needleAccuracy(length: string): number {
  const cells = Object.entries(report.cells).filter(([key]) => key.startsWith(`needle L=${length} `));
  const correct = cells.reduce((sum, [, cell]) => sum + cell.correct, 0);
  const total = cells.reduce((sum, [, cell]) => sum + cell.total, 0);
  return correct / total;
}

describe('recall-lm through our engine reproduces its model card', () => {
  it.each(['128', '256', '512', '1024'])('needle retrieval at %s tokens', (length) => {
    const measured = needleAccuracy(length);
    console.info(`needle L=${length}: engine ${measured.toFixed(3)}, card ${card.needle_by_length[length]}`);
    expect(Math.abs(measured - card.needle_by_length[length]!)).toBeLessThanOrEqual(ONE_POINT);
  });

  it.each(['copy', 'sort'] as const)('%s', (task) => {
    const cell = report.cells[task]!;
    console.info(`${task}: engine ${(cell.correct / cell.total).toFixed(3)}, card ${card[task]}`);
    expect(Math.abs(cell.correct / cell.total - card[task])).toBeLessThanOrEqual(ONE_POINT * 2); // 50 items each
  });
});
