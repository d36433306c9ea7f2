import type { TransformerConfig } from '../models/config';

/** Edge of an attention tile: query blocks and key blocks both hold this many tokens. */
export const ATTENTION_BLOCK = 16;

/** For one layer: per head, per query block, the ascending key-block indices its queries read. */
export type KeyBlockLists = readonly (readonly (readonly number[])[])[];

/** Where in a layer a reduction step removes tokens: before the layer's first op, or after its attention sublayer. */
export type ReductionPoint = 'input' | 'after-attention';

/** What a reduction step's scorer reads: the attention probabilities [heads, n, n] of an earlier layer. */
export interface ProbabilitiesInput {
  kind: 'attention-probs';
  layer: number;
}
export type ScoreInput = ProbabilitiesInput;

/**
 * A token reduction: the survivors of `tokensBefore` tokens, `keep` of them, continue in order. `kind: 'select'`
 * keeps the top-scored tokens as they are (pruning); merging (ToMe, VisionDrop) will add a kind that carries the
 * merged tokens' sizes and sources.
 */
export interface ReductionStep {
  technique: string;
  layer: number;
  point: ReductionPoint;
  input: ScoreInput;
  kind: 'select';
  tokensBefore: number;
  keep: number;
  /** Mask of the scored attention: query i sees key j when j ≤ i or j < bidirectionalPrefix. */
  bidirectionalPrefix: number;
  /** The last `protectedTail` tokens always survive (the output row; a VLM's whole instruction). */
  protectedTail: number;
  /** WGSL scoring kernel supplied by the technique (see src/techniques/README.md for its bindings). */
  scorer: ScorerKernel;
}

export interface ScorerKernel {
  /** WGSL source with entry point `main`; it may use the `#include` directive of src/engine/wgsl.ts. */
  source: string;
  constants: Record<string, number>;
  /** Multiply-adds of the scoring pass, for the FLOP counter. */
  macs: number;
  /**
   * CPU twin of the kernel: scores from probabilities [heads, tokens, tokens] computed under the mask of
   * `bidirectionalPrefix`, the last `protectedTail` tokens scored above every other.
   */
  reference: (probs: Float32Array, heads: number, tokens: number, bidirectionalPrefix: number, protectedTail: number) => Float32Array;
}

/**
 * Places a dropout mask can apply: the embedding rows, the attention probabilities (after the softmax), and the
 * output of each sublayer before its residual add.
 */
export type DropoutSiteName = 'embedding' | 'attention-probs' | 'attention-output' | 'mlp-output';

/**
 * How a site's mask is drawn. 'element': each element on its own, with inverted scaling (standard dropout).
 * 'layer': the whole sublayer at once, per Monte-Carlo sample (LayerDrop, stochastic depth): a dropped sublayer is
 * not computed, its residual passes through, so the work differs from sample to sample.
 */
export type MaskKind = 'element' | 'layer';

export interface DropoutSiteRule {
  site: DropoutSiteName;
  kind: MaskKind;
  rate: number;
}

/** The mask kinds each site can take: whole sublayers can only be dropped at a sublayer's output. */
export const SITE_MASK_KINDS: Readonly<Record<DropoutSiteName, readonly MaskKind[]>> = {
  embedding: ['element'],
  'attention-probs': ['element'],
  'attention-output': ['element', 'layer'],
  'mlp-output': ['element', 'layer'],
};

export interface DropoutPlan {
  /** At most one rule per site, each with a rate above 0. */
  sites: readonly DropoutSiteRule[];
  seed: number;
  /** Monte-Carlo passes; each pass uses its own index in the mask hash. */
  samples: number;
}

/**
 * StreamingLLM's A-shape, token-exact (../shared/specs/sparse-attention.md §3.1–3.2): on top of the layer's base mask,
 * query i sees key j only when j is one of the first `sinks` tokens or |i − j| < `window`. For causal rows that is
 * i − window < j ≤ i, the query's own token included; bidirectional rows (a ViT, a VLM's image) reach `window` − 1
 * tokens forward too. Tokens count in the model's own order, which differs from the engine's rows only on a ViT
 * (see TokenMask.firstTokenRow). StreamingLLM keeps exactly these tokens, and MInference's A-shape kernel masks them
 * token by token inside its blocks, so the kernel does too: whole tiles are computed, keys outside are masked.
 */
export interface TokenWindow {
  sinks: number;
  /** At least 1: every query keeps its own token. */
  window: number;
}

export interface LayerPlan {
  index: number;
  /** Tokens the layer's attention computes (after every earlier reduction step). */
  tokens: number;
  /**
   * Query i sees key j when j ≤ i or j < bidirectionalPrefix: 0 is causal attention (GPT-2), `tokens` is fully
   * bidirectional (ViT), the image-token count is a prefix LM (image tokens see each other, text stays causal).
   */
  bidirectionalPrefix: number;
  /** Narrows that base mask token by token; null for none. `keyBlocks` then lists no tile it leaves without a pair. */
  tokenWindow: TokenWindow | null;
  /** Heads whose attention runs, ascending; a masked head is not dispatched, its output is 0 and it costs nothing. */
  heads: readonly number[];
  /** One entry per head of the model; a masked head's lists are empty. */
  keyBlocks: KeyBlockLists;
  /** Whether the attention probabilities are written out (for a map panel or a reduction step's score). */
  captureAttention: boolean;
  /**
   * Sparsity decided on the GPU from this layer's own Q and K (SALE, DHSA, …), between the QKV projection and the
   * attention kernel: `keyBlocks` then bound what it may choose (the CPU-planned restriction it is intersected with).
   * Null when `keyBlocks` is what attention reads.
   */
  estimator: BlockEstimator | null;
  /** What the estimator chose, read back after a run (ForwardResult.plan); null before, and without an estimator. */
  selection: KeySelection | null;
}

/**
 * Which keys each query row may see inside the tiles it computes, one bit per key: bit j % 32 of word
 * `(maskHead · tokens + i) · wordsPerRow(tokens) + ⌊j / 32⌋`, where maskHead is the head for a per-head mask and 0
 * for a mask all heads share. Token-level methods (DHSA's token budget, MInference's vertical and slash lines)
 * write one next to their key-block lists; the attention kernel tests it key by key, on top of the layer's mask.
 */
export interface KeyTokenMask {
  perHead: boolean;
  bits: Uint32Array;
}

export function wordsPerRow(tokens: number): number {
  return Math.ceil(tokens / 32);
}

/** Words of the KeyTokenMask an estimator writes for a layer of `tokens` rows (0 for none). */
export function keyMaskWords(keyMask: BlockEstimator['keyMask'], heads: number, tokens: number): number {
  return keyMask === 'none' ? 0 : (keyMask === 'per-head' ? heads : 1) * tokens * wordsPerRow(tokens);
}

/** Key-block lists (and a key mask) chosen for one layer, by a GPU estimator or its CPU twin. */
export interface KeySelection {
  keyBlocks: KeyBlockLists;
  keyMask: KeyTokenMask | null;
}

/** A buffer an estimator pass binds, in binding order (src/techniques/README.md, "GPU-decided sparsity"). */
export type EstimatorBinding =
  /** The layer's c_attn output [tokens, 3C]: q | k | v, head h at columns h·headDim of each part. */
  | 'qkv'
  /** The planned lists the estimate chooses within, packed as the attention kernel reads lists. */
  | 'allowedCounts'
  | 'allowedIndices'
  /** The lists attention will read: counts [heads · queryBlocks], indices [heads · queryBlocks · maxKeyBlocks]. */
  | 'counts'
  | 'indices'
  /** The KeyTokenMask's words, cleared to 0 before the first pass (only with `keyMask` other than 'none'). */
  | 'keyMask'
  /** Uniform EstimateShape (src/engine/kernelUniforms.ts). */
  | 'shape'
  /** Scratch the estimator declares in `scratch`, by name. */
  | { scratch: string }
  /** Read-only data the estimator uploads (per-head thresholds, a predictor's weights), by name. */
  | { data: string };

/** What the running adapter offers that an estimator may choose a kernel by. */
export interface GpuFeatures {
  /** WGSL language features (navigator.gpu.wgslLanguageFeatures), e.g. 'packed_4x8_integer_dot_product'. */
  wgslLanguageFeatures: ReadonlySet<string>;
}

export interface EstimatorPass {
  label: string;
  /** WGSL with entry point `main` (it may `#include` the engine's shaders), chosen for the adapter's features. */
  source: (features: GpuFeatures) => string;
  constants: Record<string, number>;
  bindings: readonly EstimatorBinding[];
  /** Workgroups to dispatch, x and y. */
  workgroups: readonly [number, number];
}

export interface EstimatorScratch {
  bytes: number;
  /**
   * 'layer': fresh for this layer. 'forward': one buffer per technique and name for the whole forward pass, shared by
   * its estimators of every layer (DHSA's chunk boundaries, found from layer 0's keys and reused by the others).
   */
  scope: 'layer' | 'forward';
}

/** The estimator's own work, by its method's formula: technique overhead in the FLOP count. */
export interface EstimatorCost {
  /** Float multiply-adds. */
  macs: number;
  /** Low-bit integer multiply-adds (int4/int8), counted apart from float work (spec §0). */
  intMacs: number;
}

/**
 * A technique's estimation kernel(s) for one layer: passes that read the layer's Q and K and write the key-block
 * lists (and optionally a key mask) the attention kernel then reads. Every list must be a subset of the planned
 * (allowed) list of the same (head, query block), ascending; the engine checks this on what it reads back.
 */
export interface BlockEstimator {
  technique: string;
  passes: readonly EstimatorPass[];
  scratch: Readonly<Record<string, EstimatorScratch>>;
  data: Readonly<Record<string, Float32Array | Uint32Array>>;
  keyMask: 'none' | 'shared' | 'per-head';
  cost: EstimatorCost;
  /**
   * Tiles the method always computes whatever the estimate says (SALE's sink, local band and diagonal; DHSA's sink
   * and recent tokens): the attention map tells them apart from the tiles the estimate chose.
   */
  forced: KeyBlockLists;
  /**
   * CPU twin of the passes: the selection from the layer's qkv [tokens, 3C] and the allowed lists. `state` is shared
   * by the technique's estimators across one forward pass, as 'forward'-scoped scratch is on the GPU.
   */
  reference(qkv: Float32Array, allowed: KeyBlockLists, state: Map<string, unknown>): KeySelection;
}

/** Everything a forward pass will execute, decided on the CPU before any GPU work: the FLOP counter reads this. */
export interface ExecutionPlan {
  config: TransformerConfig;
  inputTokens: number;
  blockSize: number;
  layers: LayerPlan[];
  /** In execution order: by layer, 'input' before 'after-attention'. */
  reductions: ReductionStep[];
  dropout: DropoutPlan | null;
  /** 'all' computes logits for every surviving position (parity tests); 'last' only for the next token. */
  logitsRows: 'last' | 'all';
  /** Names of the techniques that shaped this plan, in registry order. */
  techniques: string[];
}

/** Number of blocks of `blockSize` needed for `tokens` tokens. */
export function blockCount(tokens: number, blockSize = ATTENTION_BLOCK): number {
  return Math.ceil(tokens / blockSize);
}

/** Dense lists: query block q reads every key block its mask allows, 0..q and any block inside the prefix. */
export function denseKeyBlocks(tokens: number, heads: number, bidirectionalPrefix = 0, blockSize = ATTENTION_BLOCK): KeyBlockLists {
  const perHead = Array.from({ length: blockCount(tokens, blockSize) }, (_, q) =>
    Array.from({ length: Math.max(q, lastVisibleBlock(q, bidirectionalPrefix, blockSize)) + 1 }, (_, k) => k),
  );
  return Array.from({ length: heads }, () => perHead);
}

/** The last key block any query of block q may read: its own, or the last block touching the prefix. */
export function lastVisibleBlock(queryBlock: number, bidirectionalPrefix: number, blockSize = ATTENTION_BLOCK): number {
  return Math.max(queryBlock, blockCount(bidirectionalPrefix, blockSize) - 1);
}

/** Every head of the model, for a layer no technique masks heads in. */
export function allHeads(config: TransformerConfig): number[] {
  return Array.from({ length: config.n_head }, (_, h) => h);
}

/** The reduction steps placed at one point of one layer, in execution order. */
export function reductionsAt(plan: Pick<ExecutionPlan, 'reductions'>, layer: number, point: ReductionPoint): ReductionStep[] {
  return plan.reductions.filter((step) => step.layer === layer && step.point === point);
}

/** Everything that decides, token by token, whether query row i of one layer sees key row j. */
export interface TokenMask {
  /** Chosen on the GPU with the key-block lists (LayerPlan.selection); absent or null when the layer has none. */
  keyMask?: KeyTokenMask | null;
  tokens: number;
  /** The base mask: key j is visible to query i when j ≤ i or j < bidirectionalPrefix (see LayerPlan). */
  bidirectionalPrefix: number;
  tokenWindow: TokenWindow | null;
  /**
   * The row holding the model's own first token, from which sinks and window distances count: row r is token
   * (r − firstTokenRow) mod tokens. 0, except on a ViT: the engine keeps the CLS token as the last row (so that the
   * output row is last), while in the model's own (Hugging Face) order CLS is token 0, and it plays the sink role
   * (../shared/specs/sparse-attention.md, correctness rule 5). Counting from there makes a windowed ViT compute what
   * Hugging Face's ViT computes under the same mask.
   */
  firstTokenRow: number;
}

/** The token mask of a layer of `config` (a LayerPlan, or a technique's LayerContext with its own window). */
export function tokenMask(
  config: TransformerConfig,
  layer: Pick<LayerPlan, 'tokens' | 'bidirectionalPrefix' | 'tokenWindow'> & { selection?: KeySelection | null },
): TokenMask {
  return {
    keyMask: layer.selection?.keyMask ?? null,
    tokens: layer.tokens,
    bidirectionalPrefix: layer.bidirectionalPrefix,
    tokenWindow: layer.tokenWindow,
    // Only a ViT has CLS, and it has no text after it: CLS is the last row of every layer, pruned or not.
    firstTokenRow: config.image?.cls ? layer.tokens - 1 : 0,
  };
}

/** Whether query row `query` of `head` sees key row `key`: the test the attention kernel makes per key (and its CPU twin). */
export function keyVisible(mask: TokenMask, query: number, key: number, head = 0): boolean {
  if (key > query && key >= mask.bidirectionalPrefix) return false;
  if (mask.keyMask && !keyMaskBit(mask.keyMask, mask.tokens, head, query, key)) return false;
  const window = mask.tokenWindow;
  if (!window) return true;
  const keyToken = tokenIndex(mask, key);
  return keyToken < window.sinks || Math.abs(tokenIndex(mask, query) - keyToken) < window.window;
}

export function keyMaskBit(keyMask: KeyTokenMask, tokens: number, head: number, query: number, key: number): boolean {
  const word = ((keyMask.perHead ? head : 0) * tokens + query) * wordsPerRow(tokens) + (key >>> 5);
  return ((keyMask.bits[word]! >>> (key & 31)) & 1) === 1;
}

/**
 * How many key rows of [keyStart, keyEnd) query row `query` of `head` sees: the count `keyVisible` gives key by key
 * (tested against it), in O(1) without a key mask, for planning tiles and counting useful pairs.
 */
export function visibleKeyCount(mask: TokenMask, query: number, keyStart: number, keyEnd: number, head = 0): number {
  // The base mask keeps a prefix of every row: keys [0, max(query + 1, prefix)).
  const end = Math.min(keyEnd, mask.tokens, Math.max(query + 1, mask.bidirectionalPrefix));
  if (end <= keyStart) return 0;
  if (mask.keyMask) {
    let visible = 0;
    for (let key = Math.max(0, keyStart); key < end; key++) if (keyVisible(mask, query, key, head)) visible++;
    return visible;
  }
  const window = mask.tokenWindow;
  if (!window) return end - keyStart;
  const queryToken = tokenIndex(mask, query);
  const inWindowOrSinks = (rowStart: number, rowEnd: number): number => {
    if (rowEnd <= rowStart) return 0;
    // A run of rows on one side of firstTokenRow is a run of consecutive tokens [first, last).
    const first = tokenIndex(mask, rowStart);
    const last = first + (rowEnd - rowStart);
    const windowStart = Math.max(first, queryToken - window.window + 1);
    const windowEnd = Math.min(last, queryToken + window.window);
    const inWindow = Math.max(0, windowEnd - windowStart);
    return overlap(first, last, 0, window.sinks) + inWindow - overlap(windowStart, windowEnd, 0, window.sinks);
  };
  return inWindowOrSinks(keyStart, Math.min(end, mask.firstTokenRow)) + inWindowOrSinks(Math.max(keyStart, mask.firstTokenRow), end);
}

/** Whether the mask leaves any (query, key) pair in a tile: a tile it leaves none in need never be computed. */
export function tileVisible(mask: TokenMask, queryBlock: number, keyBlock: number, blockSize = ATTENTION_BLOCK): boolean {
  const keyStart = keyBlock * blockSize;
  const queryEnd = Math.min((queryBlock + 1) * blockSize, mask.tokens);
  for (let query = queryBlock * blockSize; query < queryEnd; query++) {
    if (visibleKeyCount(mask, query, keyStart, keyStart + blockSize) > 0) return true;
  }
  return false;
}

/** `lists` without the tiles the mask leaves no pair in. */
export function visibleTiles(lists: KeyBlockLists, mask: TokenMask, blockSize = ATTENTION_BLOCK): KeyBlockLists {
  // Heads usually share their lists: decide each tile once.
  const decided = new Map<number, boolean>();
  const blocks = blockCount(mask.tokens, blockSize);
  const visible = (q: number, k: number) => {
    let answer = decided.get(q * blocks + k);
    if (answer === undefined) {
      answer = tileVisible(mask, q, k, blockSize);
      decided.set(q * blocks + k, answer);
    }
    return answer;
  };
  return lists.map((head) => head.map((keys, q) => keys.filter((k) => visible(q, k))));
}

/** The model's own index of a row (see TokenMask.firstTokenRow). */
function tokenIndex(mask: TokenMask, row: number): number {
  return (row - mask.firstTokenRow + mask.tokens) % mask.tokens;
}

/** Length of [start, end) ∩ [from, to). */
function overlap(start: number, end: number, from: number, to: number): number {
  return Math.max(0, Math.min(end, to) - Math.max(start, from));
}
