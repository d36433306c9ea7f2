import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { softmax } from '../engine/distributions';
import { GpuContext } from '../engine/gpuContext';
import { maxAbsDifference } from '../engine/kernelHarness';
import { nodeDevice } from '../engine/nodeDevice';
import { TransformerEngine } from '../engine/transformerEngine';
import { readBundledModel } from '../models/bundledModel.testutil';
import { pixelValues } from '../models/image';
import { createOrtReference, type OrtReference } from '../reference/ortReference';
import { buildPlan } from '../techniques/buildPlan';
import type { EvalReport } from './evalReport';
import { evaluateImageModel, vitEvalItems, vqaEvalItems, type ImageEvalItem } from './imageHarness';

/** The model card's dense accuracy, overall and per task, as its training script measured it in PyTorch. */
interface CardAccuracy {
  overall: number;
  tasks: Record<string, number>;
}

interface ZooModel {
  name: string;
  items: (json: unknown) => ImageEvalItem[];
  card: (training: unknown) => CardAccuracy;
}

/** training.json of tools/train_shapes_vit.py */
interface VitTraining {
  final: { eval: { accuracy: number; per_class: Record<string, { accuracy: number }> } };
}

/** training.json of tools/train_shapes_vqa.py */
interface VqaTraining {
  final_eval: Record<string, number>;
}

const zoo: ZooModel[] = [
  {
    name: 'shapes-vit',
    items: vitEvalItems,
    card: (training) => {
      const { accuracy, per_class: perClass } = (training as VitTraining).final.eval;
      return { overall: accuracy, tasks: Object.fromEntries(Object.entries(perClass).map(([label, cell]) => [label, cell.accuracy])) };
    },
  },
  {
    name: 'shapes-vqa',
    items: vqaEvalItems,
    card: (training) => {
      const final = (training as VqaTraining).final_eval;
      return { overall: final['overall']!, tasks: Object.fromEntries(['color', 'count', 'exists', 'where'].map((type) => [type, final[type]!])) };
    },
  },
];

describe.each(zoo)('$name through our engine', ({ name, items: parseItems, card: readCard }) => {
  const { folder, config, weights, readJson } = readBundledModel(name);
  let engine: TransformerEngine;
  let reference: OrtReference;
  let items: ImageEvalItem[];

  beforeAll(async () => {
    engine = new TransformerEngine(new GpuContext(await nodeDevice()), config, weights);
    reference = await createOrtReference(new Uint8Array(readFileSync(`${folder}/onnx/model.onnx`)), { provider: 'wasm' });
    items = parseItems(readJson('eval.json'));
  });
  afterAll(async () => {
    engine.destroy();
    await reference.dispose();
  });

  it('matches onnxruntime-web on the same ONNX file within 1e-3 on every output row', async () => {
    let worst = 0;
    for (const item of items.slice(0, 8)) {
      const pixels = pixelValues(item.image, config.image!);
      const plan = buildPlan(config, config.imageTokens + item.ids.length, [], { logitsRows: 'all' });
      const ours = await engine.forward(plan, item.ids, { pixels });
      const theirs = await reference.logits(item.ids, pixels);
      // Ours has a row per token (image rows first); ORT has one per text token, or one for a classifier.
      worst = Math.max(worst, maxAbsDifference(ours.logits.subarray(ours.logits.length - theirs.length), theirs));
    }
    console.info(`${name}: max |Δlogit| engine vs onnxruntime-web over 8 eval items = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-3);
  });

  describe('reproduces its model card within one point', () => {
    let report: EvalReport;
    const card = readCard(JSON.parse(readFileSync(`${folder}/training.json`, 'utf8')));
    beforeAll(async () => {
      const denseProbs = async (item: ImageEvalItem, pixels: Float32Array) => {
        const logits = await reference.logits(item.ids, pixels);
        return softmax(logits.subarray(logits.length - config.vocab_size));
      };
      report = await evaluateImageModel(engine, items, { active: [], denseProbs });
    }, 600_000);

    it('overall, with full agreement with onnxruntime-web', () => {
      console.info(`${name}: engine ${report.accuracy.toFixed(4)}, card ${card.overall}; top-1 agreement ${report.top1Agreement}, mean KL ${report.meanKl!.toExponential(2)}`);
      expect(Math.abs(report.accuracy - card.overall)).toBeLessThanOrEqual(0.01);
      expect(report.top1Agreement).toBe(1);
      expect(report.meanKl!).toBeLessThan(1e-6);
    });

    it('per task', () => {
      for (const [task, accuracy] of Object.entries(card.tasks)) {
        const cell = report.cells[task]!;
        // One item is 1–2 points of a task with 50–100 items: a float-rounding flip near a tie may cost one.
        expect(Math.abs(cell.correct / cell.total - accuracy), task).toBeLessThanOrEqual(1 / cell.total + 1e-9);
      }
    });
  });
});
