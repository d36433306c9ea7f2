/**
 * Runs a language model's evaluation set through our engine under any technique configuration and reports what a
 * researcher compares: task accuracy (per task and per cell), agreement with the dense model on the first answer
 * token (top-1 and KL), and the FLOPs of what was executed against the dense plan.
 */
import { argmax, sampleStatistics, softmax } from '../engine/distributions';
import type { TransformerEngine } from '../engine/transformerEngine';
import { countFlops, denseReference } from '../flops/countFlops';
import { buildPlan } from '../techniques/buildPlan';
import type { ActiveTechnique } from '../techniques/types';
import { EvalTally, type EvalReport } from './evalReport';

/** One item of a bundled LM's eval.json (see the model card): greedy decoding of `answer` after `prompt`. */
export interface LmEvalItem {
  task: string;
  length: number;
  depth?: number | null;
  prompt: string;
  answer: string;
  /** A needle's key letter: the prompt ends by asking for the number written after it. */
  key?: string;
}

/**
 * The items of an LM eval.json (recall-lm's format: `{"items": [{task, length, depth, prompt, answer, key?}, …]}`);
 * throws, naming the first bad item, on anything else, such as an image model's eval set or a hub repository's own.
 */
export function parseLmEvalSet(json: unknown): LmEvalItem[] {
  const items = typeof json === 'object' && json !== null ? (json as { items?: unknown }).items : undefined;
  if (!Array.isArray(items)) throw new Error('it has no "items" list');
  return items.map((item: unknown, index): LmEvalItem => {
    const { task, length, depth, prompt, answer, key } = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const valid =
      typeof task === 'string' &&
      typeof length === 'number' &&
      (depth === undefined || depth === null || typeof depth === 'number') &&
      typeof prompt === 'string' &&
      typeof answer === 'string' &&
      (key === undefined || typeof key === 'string');
    if (!valid) throw new Error(`item ${index} is not {task, length, depth, prompt, answer} with a text prompt and answer`);
    return { task, length, depth, prompt, answer, ...(key === undefined ? {} : { key }) };
  });
}

export interface LmEvalOptions {
  encode: (text: string) => number[];
  /** Switched-on techniques; empty for the dense model. */
  active: readonly ActiveTechnique[];
  /** Next-token probabilities of the dense model after a prompt (onnxruntime-web or our dense engine). */
  denseNextToken?: (promptIds: number[]) => Promise<Float32Array>;
  /** Stops the evaluation between items (it rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Called after each item with the items done so far. */
  onProgress?: (done: number, total: number) => void;
}

export async function evaluateLm(engine: TransformerEngine, items: readonly LmEvalItem[], options: LmEvalOptions): Promise<EvalReport> {
  const tally = new EvalTally();
  for (const [index, item] of items.entries()) {
    options.signal?.throwIfAborted();
    const promptIds = options.encode(item.prompt);
    const answerIds = options.encode(item.answer);
    const decoded = await greedyAnswer(engine, promptIds, answerIds, options.active, tally.flops);
    const hasCell = item.depth !== undefined && item.depth !== null;
    tally.score(decoded.correct, hasCell ? [item.task, `${item.task} L=${item.length} depth=${item.depth}`] : [item.task]);
    if (options.denseNextToken) tally.compare(await options.denseNextToken(promptIds), decoded.firstTokenProbs);
    options.onProgress?.(index + 1, items.length);
  }
  return tally.report();
}

/**
 * Whether greedy decoding after the prompt reproduces the answer. Without token pruning every position is computed,
 * so one causal pass over prompt + answer scores all answer tokens at once (teacher forcing equals greedy decoding
 * while the prefix is right). A pruning plan drops positions, and Monte-Carlo dropout needs averaged
 * probabilities, so there each answer token gets its own pass.
 */
async function greedyAnswer(
  engine: TransformerEngine,
  promptIds: number[],
  answerIds: number[],
  active: readonly ActiveTechnique[],
  flops: { executed: number; dense: number },
): Promise<{ correct: boolean; firstTokenProbs: Float32Array }> {
  const vocab = engine.config.vocab_size;
  const run = async (ids: number[], logitsRows: 'last' | 'all') => {
    const plan = buildPlan(engine.config, ids.length, active, { logitsRows });
    const result = await engine.forward(plan, ids);
    // The plan as it ran: GPU-decided tiles are only known after the forward.
    flops.executed += countFlops(result.plan).total.flops;
    flops.dense += denseReference(plan).total.flops;
    return { plan, result };
  };

  const teacherForced = [...promptIds, ...answerIds.slice(0, -1)];
  const probe = buildPlan(engine.config, teacherForced.length, active);
  // Monte-Carlo dropout must average probabilities, which the engine reports for the last row only.
  if (probe.reductions.length === 0 && (probe.dropout?.samples ?? 1) === 1) {
    const { result } = await run(teacherForced, 'all');
    const rowOf = (t: number) => result.logits.subarray(t * vocab, (t + 1) * vocab);
    const correct = answerIds.every((id, i) => argmax(rowOf(promptIds.length - 1 + i)) === id);
    return { correct, firstTokenProbs: softmax(rowOf(promptIds.length - 1)) };
  }

  const ids = [...promptIds];
  let firstTokenProbs: Float32Array | undefined;
  for (const expected of answerIds) {
    const { result } = await run(ids, 'last');
    const probs = Float32Array.from(sampleStatistics(result.sampleProbs, vocab).mean);
    firstTokenProbs ??= probs;
    const next = argmax(probs);
    if (next !== expected) return { correct: false, firstTokenProbs };
    ids.push(next);
  }
  return { correct: true, firstTokenProbs: firstTokenProbs ?? new Float32Array(vocab) };
}

/**
 * The needle items of an eval set, at most `perCell` of each (length, depth) cell, in eval.json order: the grid a
 * page can compute in seconds.
 */
export function needleItems(items: readonly LmEvalItem[], perCell: number): LmEvalItem[] {
  const taken = new Map<string, number>();
  return items.filter((item) => {
    if (item.task !== 'needle' || item.depth === undefined || item.depth === null) return false;
    const cell = `${item.length}/${item.depth}`;
    const count = taken.get(cell) ?? 0;
    taken.set(cell, count + 1);
    return count < perCell;
  });
}
