import { argmax, klDivergence } from '../engine/distributions';

export interface CellScore {
  correct: number;
  total: number;
}

/** What every evaluation harness reports, whatever the model: a researcher's row in a sweep. */
export interface EvalReport {
  accuracy: number;
  /** Keyed by task, and for tasks with finer cells (the needle grid) by e.g. `task L=… depth=…`. */
  cells: Record<string, CellScore>;
  /** Share of items whose (first) answer token's argmax matches the dense model's, when a dense reference is given. */
  top1Agreement: number | null;
  /** Mean KL(dense ‖ current) of that token's distribution, in nats. */
  meanKl: number | null;
  /** FLOPs of every forward pass run, and what the dense model would have needed for the same passes. */
  flops: { executed: number; dense: number };
}

/** Accumulates one evaluation run item by item. */
export class EvalTally {
  readonly #cells: Record<string, CellScore> = {};
  readonly flops = { executed: 0, dense: 0 };
  #items = 0;
  #correct = 0;
  #compared = 0;
  #agreements = 0;
  #klSum = 0;

  /** One item, counted in each of `cells` (its task, and any finer cell). */
  score(correct: boolean, cells: readonly string[]): void {
    this.#items++;
    if (correct) this.#correct++;
    for (const key of cells) {
      const cell = (this.#cells[key] ??= { correct: 0, total: 0 });
      cell.total++;
      if (correct) cell.correct++;
    }
  }

  /** The item's answer distribution next to the dense model's. */
  compare(dense: Float32Array, current: Float32Array): void {
    this.#compared++;
    if (argmax(dense) === argmax(current)) this.#agreements++;
    this.#klSum += klDivergence(dense, current);
  }

  report(): EvalReport {
    const compared = this.#compared > 0;
    return {
      accuracy: this.#items > 0 ? this.#correct / this.#items : 0,
      cells: this.#cells,
      top1Agreement: compared ? this.#agreements / this.#compared : null,
      meanKl: compared ? this.#klSum / this.#compared : null,
      flops: this.flops,
    };
  }
}
