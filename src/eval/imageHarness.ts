/**
 * Runs an image model's evaluation set (shapes-vit's classification, shapes-vqa's questions) through our engine
 * under any technique configuration, reporting what the LM harness reports: accuracy per task, agreement with the
 * dense model (top-1, KL) and executed vs dense FLOPs.
 */
import { argmax, sampleStatistics } from '../engine/distributions';
import type { TransformerEngine } from '../engine/transformerEngine';
import { countFlops, denseReference } from '../flops/countFlops';
import { decodePaletteImage, pixelValues, type PaletteImage, type RgbImage } from '../models/image';
import { buildPlan } from '../techniques/buildPlan';
import type { ActiveTechnique } from '../techniques/types';
import { EvalTally, type EvalReport } from './evalReport';

/** One question about one image: the answer is the argmax of the output row (a class, or the token after the question). */
export interface ImageEvalItem {
  task: string;
  image: RgbImage;
  /** The question's token ids; empty for a classifier. */
  ids: number[];
  answer: number;
  /** Shown next to the image in the UI: the question, or the class to find. */
  text: string;
}

interface VitEvalJson {
  image_encoding: { height: number; width: number };
  id2label: Record<string, string>;
  items: (PaletteImage & { label: number })[];
}

interface VqaEvalJson {
  images: { height: number; width: number; images: PaletteImage[] };
  items: { image: number; type: string; question: string; input_ids: number[]; answer_id: number }[];
}

/** shapes-vit's eval.json: every item one inline palette image and its class. Tasks are the classes' names. */
export function vitEvalItems(json: unknown): ImageEvalItem[] {
  const data = json as VitEvalJson;
  const { height, width } = data.image_encoding;
  return data.items.map((item) => {
    const label = data.id2label[String(item.label)] ?? String(item.label);
    return { task: label, image: decodePaletteImage(item, width, height), ids: [], answer: item.label, text: `how many objects? (${label})` };
  });
}

/** shapes-vqa's eval.json: a pack of images and questions that point into it. Tasks are the question types. */
export function vqaEvalItems(json: unknown): ImageEvalItem[] {
  const data = json as VqaEvalJson;
  const { height, width } = data.images;
  const images = data.images.images.map((image) => decodePaletteImage(image, width, height));
  return data.items.map((item) => ({ task: item.type, image: images[item.image]!, ids: item.input_ids, answer: item.answer_id, text: item.question }));
}

export interface ImageEvalOptions {
  active: readonly ActiveTechnique[];
  /** Output-row probabilities of the dense model for one item (onnxruntime-web or our dense engine). */
  denseProbs?: (item: ImageEvalItem, pixels: Float32Array) => Promise<Float32Array>;
}

export async function evaluateImageModel(engine: TransformerEngine, items: readonly ImageEvalItem[], options: ImageEvalOptions): Promise<EvalReport> {
  const { config } = engine;
  if (!config.image) throw new Error('this model takes no image');
  const tally = new EvalTally();
  for (const item of items) {
    const pixels = pixelValues(item.image, config.image);
    const plan = buildPlan(config, config.imageTokens + item.ids.length, options.active);
    const result = await engine.forward(plan, item.ids, { pixels });
    // The plan as it ran: GPU-decided tiles are only known after the forward.
    tally.flops.executed += countFlops(result.plan).total.flops;
    tally.flops.dense += denseReference(plan).total.flops;
    const probs = Float32Array.from(sampleStatistics(result.sampleProbs, config.vocab_size).mean);
    tally.score(argmax(probs) === item.answer, [item.task]);
    if (options.denseProbs) tally.compare(await options.denseProbs(item, pixels), probs);
  }
  return tally.report();
}
