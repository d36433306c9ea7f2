/**
 * Test helpers for panel snapshots (observable plot's harness, ../shared/style.md B5): serialized markup with
 * numbers rounded to 3 decimals and one element per line, so goldens are stable and diffs readable; plus a seeded
 * LCG for synthetic data.
 */
export function serializePanel(element: Element): string {
  return (
    element.outerHTML
      .replace(/-?\d+\.\d+(e[-+]?\d+)?/g, (number) => String(Number(Number(number).toFixed(3))))
      .replace(/></g, '>\n<') + '\n'
  );
}

/** Numerical Recipes LCG: deterministic numbers in [0, 1). */
export function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Causal softmax rows over n tokens from seeded logits: a plausible attention map. */
export function syntheticAttention(n: number, seed: number): Float32Array {
  const random = lcg(seed);
  const probs = new Float32Array(n * n);
  for (let q = 0; q < n; q++) {
    let sum = 0;
    for (let k = 0; k <= q; k++) {
      const weight = Math.exp(4 * random());
      probs[q * n + k] = weight;
      sum += weight;
    }
    for (let k = 0; k <= q; k++) probs[q * n + k] = (probs[q * n + k] ?? 0) / sum;
  }
  return probs;
}
