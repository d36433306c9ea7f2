/** Small operations on next-token distributions, shared by the engine, the runner and the evaluation harness. */

export function softmax(logits: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** Index of the largest value; ties go to the lower index. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** KL(p ‖ q) in nats; q is floored so a zero where p has mass gives a large, finite value. */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let kl = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) kl += p[i]! * Math.log(p[i]! / Math.max(q[i]!, 1e-30));
  return Math.max(0, kl);
}

/** Mean and population standard deviation (ddof = 0: divided by the sample count) over Monte-Carlo samples of [samples, vocab] probabilities. */
export function sampleStatistics(sampleProbs: Float32Array, vocab: number): { mean: Float64Array; std: Float64Array } {
  const samples = sampleProbs.length / vocab;
  const mean = new Float64Array(vocab);
  const meanOfSquares = new Float64Array(vocab);
  for (let s = 0; s < samples; s++) {
    for (let v = 0; v < vocab; v++) {
      const p = sampleProbs[s * vocab + v]!;
      mean[v]! += p / samples;
      meanOfSquares[v]! += (p * p) / samples;
    }
  }
  const std = mean.map((m, v) => Math.sqrt(Math.max(0, meanOfSquares[v]! - m * m)));
  return { mean, std };
}
